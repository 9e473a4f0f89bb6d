/**
 * How costs grow with the run: builds logs of `--steps` (default 100k and 1M) steps × 10
 * scalars and one of `--names` (default 100k) metric names × 3 steps, and measures, each in its
 * own process (wall time and peak RSS): training with the log, replayRun, and the CLI's replay
 * --json / --csv / --tensorboard, show (cold, then warm), diff against itself, plot; then the same
 * run trained with `snapshotCache` (the cost against the run without, and the first show and plot
 * after it). Prints a
 * table per size, then the growth of each figure from the smallest size to the largest next to
 * the growth of the run (linear is that ratio; over 1.2× it is flagged), then the targets.
 *
 *   npm run bench:scale [-- --steps 100000,1000000 --names 100000]
 *   npm run bench:scale -- --quick      (10k and 100k steps, 10k names)
 *
 * The CLI runs from dist/ (built first), as users run it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const root = new URL('../..', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const listArg = (name: string, def: number[]): number[] => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]!.split(',').map(Number) : def;
};
const SIZES = listArg('steps', quick ? [10_000, 100_000] : [100_000, 1_000_000]);
const [NAMES] = listArg('names', quick ? [10_000] : [100_000]);
const SCALARS = 10;

const dir = mkdtempSync(join(tmpdir(), 'trainledger-scale-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

interface Measure {
  readonly s: number;
  readonly mb: number;
}

/** Runs `node ARGS` through the rusage wrapper; fails loudly if the job fails. */
function measure(label: string, args: readonly string[], viaTsx = false): Measure {
  const node = viaTsx ? ['--import', 'tsx'] : [];
  const r = spawnSync(process.execPath, [...node, join(root, 'tools/bench/rusage.mjs'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = /@rusage (\{.*\})\s*$/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${label} failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  const { ms, maxRssKb } = JSON.parse(m[1]!) as { ms: number; maxRssKb: number };
  process.stderr.write(`  ${label}: ${(ms / 1000).toFixed(2)} s, ${(maxRssKb / 1024).toFixed(0)} MB\n`);
  return { s: ms / 1000, mb: maxRssKb / 1024 };
}

const cli = (label: string, ...args: string[]): Measure => measure(label, [join(root, 'bin/trainledger.js'), ...args]);
const child = (label: string, ...args: string[]): Measure => measure(label, [join(root, 'tools/bench/scale-child.ts'), ...args], true);

/** Log bytes on disk with the WAL folded in. */
function logBytes(path: string): number {
  const db = new Database(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(path).size;
}

function sizeOf(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (st.isFile()) return st.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

process.stderr.write('building dist/ (the CLI runs from it)\n');
const built = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
if (built.status !== 0) throw new Error(`build failed: ${built.stdout}${built.stderr}`);

type Row = Record<string, Measure | number>;
const rows = new Map<number, Row>();
for (const steps of SIZES) {
  process.stderr.write(`${steps.toLocaleString('en-US')} steps × ${SCALARS} scalars\n`);
  const run = mkdtempSync(join(dir, 'run-'));
  const log = join(run, 'run.sqlite');
  const row: Row = {};
  row['train (with log, JSONWriter)'] = child('train', 'train', run, String(steps), String(SCALARS));
  row['bytes per scalar on disk'] = logBytes(log) / (steps * SCALARS);
  row['replayRun'] = child('replayRun', 'replay', log);
  row['replay --json'] = cli('replay --json', 'replay', log, '--json', join(run, 'out.json'));
  row['replay --csv'] = cli('replay --csv', 'replay', log, '--csv', join(run, 'out.csv'));
  row['replay --tensorboard'] = cli('replay --tensorboard', 'replay', log, '--tensorboard', join(run, 'tb'));
  // Before anything has built the snapshot cache: plot then walks the whole log.
  row['plot (cold: no cache yet)'] = cli('plot cold', 'plot', log, '--metric', 'loss_0', '--out', join(run, 'cold.svg'));
  row['show (cold)'] = cli('show cold', 'show', log);
  row['snapshot cache / log'] = sizeOf(`${log}.snapshots`) / sizeOf(log);
  row['show (warm)'] = cli('show warm', 'show', log);
  row['diff (itself)'] = cli('diff', 'diff', log, log);
  row['plot (one metric)'] = cli('plot (cache built by show)', 'plot', log, '--metric', 'loss_0', '--out', join(run, 'p.svg'));
  rmSync(run, { recursive: true, force: true });
  // The same run, filling the snapshot cache as it trains: what that costs, and the first show.
  const filled = mkdtempSync(join(dir, 'filled-'));
  row['train with snapshotCache'] = child('train with snapshotCache', 'train', filled, String(steps), String(SCALARS), 'cache');
  row['snapshotCache train / train'] = (row['train with snapshotCache'] as Measure).s / (row['train (with log, JSONWriter)'] as Measure).s;
  row['show (first, cache filled live)'] = cli('show after a filled run', 'show', join(filled, 'run.sqlite'));
  row['plot (first, cache filled live)'] = cli('plot after a filled run', 'plot', join(filled, 'run.sqlite'), '--metric', 'loss_0', '--out', join(filled, 'p.svg'));
  rmSync(filled, { recursive: true, force: true });
  rows.set(steps, row);
}

process.stderr.write(`${NAMES!.toLocaleString('en-US')} metric names × 3 steps\n`);
const wideRun = mkdtempSync(join(dir, 'wide-'));
const baseline = child('baseline (1 name × 3 steps)', 'wide', mkdtempSync(join(dir, 'base-')), '1', '3');
const wideTrain = child('wide train', 'wide', wideRun, String(NAMES), '3');
const wideReplay = child('wide replayRun', 'replay', join(wideRun, 'run.sqlite'));

const fmt = (v: Measure | number | undefined): string =>
  v === undefined ? '-' : typeof v === 'number' ? v.toFixed(2) : `${v.s.toFixed(2)} s, ${v.mb.toFixed(0)} MB`;
const first = SIZES[0]!;
const last = SIZES.at(-1)!;
const growth = last / first;
const keys = Object.keys(rows.get(first)!);
const pad = (s: string, n: number): string => s.padEnd(n);
console.log(`\nbench:scale (node ${process.version}); steps × ${SCALARS} scalars; each figure one process: wall time, peak RSS`);
console.log(`| what | ${SIZES.map((n) => `${n.toLocaleString('en-US')} steps`).join(' | ')} | growth ${first.toLocaleString('en-US')}→${last.toLocaleString('en-US')} (run: ${growth}×) |`);
console.log(`|---|${SIZES.map(() => '---').join('|')}|---|`);
const flagged: string[] = [];
for (const k of keys) {
  const a = rows.get(first)![k]!;
  const b = rows.get(last)![k]!;
  let g = '';
  if (typeof a !== 'number' && typeof b !== 'number') {
    const ratio = b.s / a.s;
    const over = ratio > growth * 1.2;
    if (over) flagged.push(`${k}: time grew ${ratio.toFixed(1)}× for a ${growth}× longer run`);
    g = `time ${ratio.toFixed(1)}×${over ? ' (over linear)' : ''}, RSS ${(b.mb / a.mb).toFixed(1)}×`;
  }
  console.log(`| ${pad(k, 30)} | ${SIZES.map((n) => fmt(rows.get(n)![k])).join(' | ')} | ${g} |`);
}

const perName = ((wideTrain.mb - baseline.mb) * 1024 * 1024) / NAMES!;
console.log(`\n${NAMES!.toLocaleString('en-US')} names × 3 steps: train ${fmt(wideTrain)}, replayRun ${fmt(wideReplay)}; memory per name ${(perName / 1024).toFixed(2)} KB (peak RSS over a 1-name run)`);

const big = rows.get(last)!;
const m = (k: string): Measure => big[k] as Measure;
const n = (k: string): number => big[k] as number;
const cliKeys = ['replay --json', 'replay --csv', 'replay --tensorboard', 'plot (cold: no cache yet)', 'show (cold)', 'show (warm)', 'diff (itself)', 'plot (one metric)', 'show (first, cache filled live)'];
const targets: Array<[string, boolean]> = [
  ...cliKeys.map((k): [string, boolean] => [`${k} ≤ 10 s and ≤ 500 MB at ${last.toLocaleString('en-US')} steps: ${fmt(m(k))}`, m(k).s <= 10 && m(k).mb <= 500]),
  [`plot ≤ 3 s, the snapshot cache built (by show or a snapshotCache run): ${m('plot (one metric)').s.toFixed(2)} s`, m('plot (one metric)').s <= 3],
  [`plot ≤ 3 s, cold (no snapshot cache yet): ${m('plot (cold: no cache yet)').s.toFixed(2)} s`, m('plot (cold: no cache yet)').s <= 3],
  [`snapshot cache ≤ 25% of the log: ${(n('snapshot cache / log') * 100).toFixed(0)}%`, n('snapshot cache / log') <= 0.25],
  [`≤ 16 B per scalar on disk: ${n('bytes per scalar on disk').toFixed(1)}`, n('bytes per scalar on disk') <= 16],
  [`≤ 2 KB of memory per metric name: ${(perName / 1024).toFixed(2)} KB`, perName <= 2048],
  [`wide training ≤ 5 s: ${wideTrain.s.toFixed(2)} s`, wideTrain.s <= 5],
  [`wide replay ≤ 5 s: ${wideReplay.s.toFixed(2)} s`, wideReplay.s <= 5],
];
console.log('\ntargets (issue #16):');
for (const [what, ok] of targets) console.log(`  ${ok ? 'met    ' : 'NOT met'}  ${what}`);
for (const f of flagged) console.log(`  flagged  ${f}`);
