/**
 * Crash safety, end to end: a real training child process (tools/crash-child.ts) is killed with
 * SIGKILL at random moments — mid-step, mid-commit, mid-checkpoint — and restarted, which
 * resumes it, until it finishes. After every kill: PRAGMA integrity_check, and every batch a
 * reader had seen committed before the kill must still be there. At the end, the metrics
 * regenerated from the log, the live metrics.json the killed runs wrote (timing values aside),
 * and the final weights must equal those of an uninterrupted run.
 *
 * Every other child checkpoints the WAL after every commit (`wal_autocheckpoint = 1`, see
 * crash-child --wal-ckpt), so that kills also land in WAL checkpoints; half the kills of those
 * children are aimed at one: after the random delay, the kill waits (up to a run's length) until a thread
 * of the child is seen in /proc writing or fsyncing the database file itself, which in WAL mode
 * only a checkpoint does. Where each kill landed is read from the child's threads at the kill.
 *
 *   npm run test:crash [-- --kills 50 --steps 300] [--wal-checkpoint-every-commit]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LogFile } from '../src/log/log-file.js';
import { exportRun } from '../src/cli/export-run.js';
import { CheckpointStore } from '../src/checkpoint/checkpoint-store.js';
import { ioActivity, phaseOf, sleepSync } from './fault-child.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const KILLS = arg('kills', 50);
const STEPS = arg('steps', 300);
const SEED = arg('seed', Date.now() % 100000);
/** All children checkpoint the WAL after every commit (default: every other child). */
const WAL_EVERY = process.argv.includes('--wal-checkpoint-every-commit');
let rng = SEED;
const random = (): number => ((rng = (rng * 1103515245 + 12345) % 2147483648) / 2147483648);

const child = new URL('./crash-child.ts', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'trainledger-crash-'));

function start(dir: string, walCkpt = false): { proc: ReturnType<typeof spawn>; done: Promise<number | null>; exited: () => boolean } {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir, String(STEPS), ...(walCkpt ? ['--wal-ckpt'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let exited = false;
  proc.stderr!.on('data', (d) => (err += String(d)));
  const done = new Promise<number | null>((resolve) =>
    proc.on('exit', (code, signal) => {
      exited = true;
      if (code !== 0 && signal !== 'SIGKILL') process.stderr.write(`child failed (${code ?? signal}):\n${err}\n`);
      resolve(signal === 'SIGKILL' ? null : code);
    }),
  );
  return { proc, done, exited: () => exited };
}

/**
 * Waits (up to `ms`) until a thread of `pid` is blocked writing or fsyncing the database file
 * `db` itself (a WAL checkpoint); true if seen, and then the caller kills at once.
 */
async function awaitWalCheckpoint(pid: number, db: string, ms: number, exited: () => boolean): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end && !exited()) {
    const slice = performance.now() + 3;
    while (performance.now() < slice) {
      const act = ioActivity(pid);
      if (act === null) return false;
      if (act.some((a) => a.path === db)) return true;
      sleepSync(0.1);
    }
    await new Promise((r) => setImmediate(r));
  }
  return false;
}

/** Resolves once `ready()` holds, checking every 2 ms until cancelled. */
function pollUntil(ready: () => boolean): Promise<void> & { cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const p = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      if (ready()) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
  return Object.assign(p, { cancel: () => clearInterval(timer) });
}

function committedSeqs(path: string): Set<string> {
  const out = new Set<string>();
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      for (const r of db.prepare('SELECT run_id, seq FROM batches').raw().all() as [number, number][]) out.add(`${r[0]}:${r[1]}`);
    } finally {
      db.close();
    }
  } catch {
    // Not created yet.
  }
  return out;
}

function integrity(path: string): string {
  if (!existsSync(path)) return 'ok'; // killed before the log was created
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return String(db.pragma('integrity_check', { simple: true }));
    } finally {
      db.close();
    }
  } catch (e) {
    return (e as Error).message;
  }
}

function withoutTiming(path: string): string[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((l) => {
    const o = JSON.parse(l.replace(/NaN|-?Infinity/g, '"$&"')) as Record<string, unknown>;
    for (const k of ['time', 'data_time', 'rank_data_time', 'eta_seconds']) delete o[k];
    return JSON.stringify(o);
  });
}

function metricsWithoutTiming(dir: string): string[] {
  const log = LogFile.open(join(dir, 'log.sqlite'), { readonly: true });
  const run = log.run('crash');
  const out = join(dir, 'replayed.json');
  exportRun(log, run.id, { json: out });
  log.close();
  return withoutTiming(out);
}

console.log(`crash test: ${KILLS} kills, ${STEPS} steps, seed ${SEED}, in ${root}`);
const reference = join(root, 'reference');
const t0 = performance.now();
const ref = start(reference);
if ((await ref.done) !== 0) throw new Error('the uninterrupted reference run failed');
const refSeconds = (performance.now() - t0) / 1000;

const crashed = join(root, 'crashed');
const logPath = join(crashed, 'log.sqlite');
let kills = 0;
let corrupt = 0;
let lost = 0;
let finished = false;
let starts = 0;
const phases = new Map<string, number>();
let aimed = 0;
let aimedLanded = 0;
while (!finished) {
  const walCkpt = WAL_EVERY || starts++ % 2 === 1;
  const run = start(crashed, walCkpt);
  if (kills >= KILLS) {
    finished = (await run.done) === 0;
    if (!finished) throw new Error('the final resumed run failed');
    break;
  }
  // Kill somewhere in the run: from startup (~1 s) to well past the point it would finish.
  // The first kill instead comes as soon as metrics.json has a line, which is before the first
  // checkpoint if the poll is quick: the restart then has nothing to resume and starts afresh.
  const early = kills === 0;
  const delay = early ? refSeconds * 1000 : 300 + random() * refSeconds * 1000;
  const seen = { seqs: new Set<string>() };
  const poll = setInterval(() => {
    for (const s of committedSeqs(logPath)) seen.seqs.add(s);
  }, 40);
  const firstLine = early ? pollUntil(() => (statSync(join(crashed, 'metrics.json'), { throwIfNoEntry: false })?.size ?? 0) > 0) : null;
  const outcome = await Promise.race([run.done, new Promise<'kill'>((r) => setTimeout(() => r('kill'), delay)), ...(firstLine ? [firstLine.then(() => 'kill' as const)] : [])]);
  firstLine?.cancel();
  clearInterval(poll);
  if (outcome === 'kill') {
    for (const s of committedSeqs(logPath)) seen.seqs.add(s);
    let inWalCheckpoint = false;
    if (walCkpt && !early && random() < 0.5) {
      aimed++;
      inWalCheckpoint = await awaitWalCheckpoint(run.proc.pid!, logPath, refSeconds * 1000, run.exited);
      if (inWalCheckpoint) aimedLanded++;
    }
    if (run.exited()) {
      // It finished while the kill was being aimed: start over, as below.
      if ((await run.done) !== 0) throw new Error('a child failed');
      rmSync(crashed, { recursive: true, force: true });
      continue;
    }
    const phase = inWalCheckpoint ? 'wal-checkpoint' : phaseOf(ioActivity(run.proc.pid!), { log: logPath, ckptDir: join(crashed, 'ckpt') });
    run.proc.kill('SIGKILL');
    phases.set(phase, (phases.get(phase) ?? 0) + 1);
    await run.done;
    kills++;
    if (early) {
      const fresh = !existsSync(join(crashed, 'ckpt')) || new CheckpointStore(join(crashed, 'ckpt')).list().length === 0;
      console.log(`kill 1: ${fresh ? 'before the first checkpoint, so the restart starts afresh' : 'after the first checkpoint (the poll was late)'}`);
    }
    const check = integrity(logPath);
    if (check !== 'ok') {
      corrupt++;
      console.log(`kill ${kills}: integrity_check: ${check}`);
    }
    const after = committedSeqs(logPath);
    let missing = 0;
    for (const s of seen.seqs) if (!after.has(s)) missing++;
    lost += missing;
    if (kills % 10 === 0 || missing > 0) console.log(`kill ${kills} after ${delay.toFixed(0)} ms: ${after.size} batches in the log${missing ? `, ${missing} LOST` : ''}`);
  } else if (outcome === 0) {
    // It finished before the kill came: start over so that every kill lands in a live run.
    rmSync(crashed, { recursive: true, force: true });
  } else {
    throw new Error(`the child failed with exit code ${outcome}`);
  }
}

const refMetrics = metricsWithoutTiming(reference);
const gotMetrics = metricsWithoutTiming(crashed);
// The live metrics.json of the killed-and-resumed run (written by its PeriodicWriter, on the
// log's commit thread) must also hold every line once: none lost to a kill, none written twice.
const liveMetrics = withoutTiming(join(crashed, 'metrics.json'));
let mismatching = 0;
let liveMismatching = 0;
for (let i = 0; i < Math.max(refMetrics.length, gotMetrics.length); i++) if (refMetrics[i] !== gotMetrics[i]) mismatching++;
for (let i = 0; i < Math.max(refMetrics.length, liveMetrics.length); i++) {
  if (refMetrics[i] === liveMetrics[i]) continue;
  // Say which, so that a failure on CI can be understood from its output alone.
  if (liveMismatching++ < 3) console.log(`live metrics.json line ${i + 1}: ${liveMetrics[i] ?? '(missing)'}\n  expected: ${refMetrics[i] ?? '(none)'}`);
}
const weightsEqual = readFileSync(join(reference, 'ckpt', 'model_final', 'weights.bin')).equals(readFileSync(join(crashed, 'ckpt', 'model_final', 'weights.bin')));
console.log(
  `where the kills landed (the threads' I/O at the kill): ${[...phases].map(([p, n]) => `${p} ${n}`).join(', ')}; aimed at a WAL checkpoint: ${aimedLanded} of ${aimed} landed there; WAL checkpoint after every commit in ${WAL_EVERY ? 'every child' : 'every other child'}`,
);
console.log(`kills survived: ${kills} / corrupt logs: ${corrupt} / lost committed steps: ${lost} / mismatching metrics lines: ${mismatching} of ${refMetrics.length} replayed, ${liveMismatching} of ${liveMetrics.length} in the live metrics.json; final weights ${weightsEqual ? 'equal' : 'DIFFER'}`);
rmSync(root, { recursive: true, force: true });
if (corrupt || lost || mismatching || liveMismatching || !weightsEqual) process.exitCode = 1;
