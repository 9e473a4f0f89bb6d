/**
 * Ledger integrity, fault by fault (issue #14): each fault class is run against real training
 * processes (tools/crash-child.ts: a small MLP on MNIST with checkpoints, a JSON writer and the
 * log), and the log is checked afterwards with the library's own readers.
 *
 *   npm run test:faults [-- --quick | --trials N] [--seed S] [--only CLASS[,CLASS]] [--jobs J]
 *                       [--cli-bin] [--keep]
 *
 *   --quick     the short version CI runs (--trials 2)
 *   --trials N  trials per process class (default 10); byte flips: 30 × N; read-only readers:
 *               2 × ⌈N / 5⌉ (half on a cleanly closed log, half on a killed one with its WAL)
 *   --only      class ids below, or their letter (a–g), comma-separated
 *   --jobs J    trials run at a time (default 2)
 *   --cli-bin   run the CLI as bin/trainledger.js (dist/: needs `npm run build`) instead of src/
 *   --keep      keep the temp folder (mounts are always unmounted)
 *
 * Classes:
 *   a kill-step     SIGKILL at a random moment of training
 *     kill-commit   SIGKILL while the commit thread fsyncs a commit into the WAL (durability fsync)
 *     kill-ckpt     SIGKILL while PeriodicCheckpointer writes a model checkpoint
 *     kill-walckpt  SIGKILL while the log's database file is written or fsynced, i.e. in a WAL
 *                   checkpoint (the child asks for `wal_autocheckpoint = 1`)
 *   b log-full      the log on a 2 MB tmpfs: the run fails with LogWriteError; the files are
 *                   copied to a bigger volume and the run resumed there
 *   c ckpt-full     checkpoints on a 1 MB tmpfs: the run fails with a typed error; the volume is
 *                   grown (remount) and the run resumed
 *   d bitflip       one byte of a page of the batches table of a finished, checkpointed log is
 *                   changed; replay + export compared with the unchanged log's
 *   e wal-trunc     the -wal of a killed run is cut at a random offset, then read and resumed
 *   f shm-delete    the -shm is deleted, of a killed run (then resumed) or of a live one (which
 *                   is then killed and resumed)
 *   g ro-reader     the log's folder bind-mounted read-only: `trainledger runs`, `show`,
 *                   `replay --json` through it must give what they give on a writable copy
 *
 * A kill is aimed by watching the child's threads in /proc/<pid>/task/*\/syscall (which file a
 * thread is blocked writing or fsyncing); where it is aimed, the notes say how many kills landed.
 *
 * Progress goes to stderr, the table to stdout; exit code 1 unless the target holds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LogFile } from '../src/log/log-file.js';
import { replayRun } from '../src/log/replay.js';
import { exportRun } from '../src/cli/export-run.js';
import { TrainledgerError } from '../src/errors/trainledger-error.js';
import { ioActivity, phaseOf, sleepSync, walFrames, type FlipConfig, type FlipTrial, type IoActivity } from './fault-child.js';

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const has = (name: string): boolean => argv.includes(`--${name}`);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = has('quick');
const N = Number(value('trials') ?? (QUICK ? 2 : 10));
const SEED = Number(value('seed') ?? Date.now() % 100000);
const JOBS = Math.max(1, Number(value('jobs') ?? 2));
const KEEP = has('keep');
const CLI_BIN = has('cli-bin');
if (!(Number.isInteger(N) && N >= 1) || !Number.isFinite(SEED)) {
  process.stderr.write('usage: fault-matrix.ts [--quick | --trials N] [--seed S] [--only CLASS,...] [--jobs J] [--cli-bin] [--keep]\n');
  process.exit(2);
}

interface ClassInfo {
  readonly id: string;
  readonly letter: string;
  readonly label: string;
  readonly trials: number;
}
const CLASSES: readonly ClassInfo[] = [
  { id: 'kill-step', letter: 'a', label: 'a SIGKILL mid-step', trials: N },
  { id: 'kill-commit', letter: 'a', label: 'a SIGKILL mid-commit', trials: N },
  { id: 'kill-ckpt', letter: 'a', label: 'a SIGKILL mid-checkpoint (model)', trials: N },
  { id: 'kill-walckpt', letter: 'a', label: 'a SIGKILL in a WAL checkpoint', trials: N },
  { id: 'log-full', letter: 'b', label: 'b log volume full', trials: Math.max(1, Math.ceil(N / 2)) },
  { id: 'ckpt-full', letter: 'c', label: 'c checkpoint volume full', trials: Math.max(1, Math.ceil(N / 2)) },
  { id: 'bitflip', letter: 'd', label: 'd byte flip in a batch page', trials: 30 * N },
  { id: 'wal-trunc', letter: 'e', label: 'e -wal cut at a random offset', trials: N },
  { id: 'shm-delete', letter: 'f', label: 'f -shm deleted (killed/live run)', trials: N },
  { id: 'ro-reader', letter: 'g', label: 'g read-only folder, CLI readers', trials: 2 * Math.ceil(N / 5) },
];
const onlyArg = value('only');
const selected = onlyArg === undefined ? CLASSES : CLASSES.filter((c) => onlyArg.split(',').some((o) => o === c.id || o === c.letter));
if (onlyArg !== undefined) {
  const unknown = onlyArg.split(',').filter((o) => !CLASSES.some((c) => c.id === o || c.letter === o));
  if (unknown.length > 0 || selected.length === 0) {
    process.stderr.write(`--only: unknown class ${unknown.join(', ')}; classes: ${CLASSES.map((c) => `${c.id} (${c.letter})`).join(', ')}\n`);
    process.exit(2);
  }
}

/** Steps of a training child; bulk children (log-full) log BULK more scalars per step. */
const STEPS = 120;
/** Times a fault aimed by the clock is tried again, aimed earlier, when the run finished first. */
const RETRIES = 2;
const BULK_STEPS = 300;
const BULK = 200;
const CHILD_TIMEOUT_MS = 240_000;
const RUN_NAME = 'crash';

const repo = new URL('..', import.meta.url).pathname;
const trainerChild = new URL('./crash-child.ts', import.meta.url).pathname;
const faultChild = new URL('./fault-child.ts', import.meta.url).pathname;

function rngFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
/** Each trial's own random stream: the same seed gives the same faults whatever runs in parallel. */
const rngFor = (cls: string, i: number): (() => number) => rngFrom(createHash('sha256').update(`${SEED}:${cls}:${i}`).digest().readUInt32LE(0));
const uniform = (r: () => number, lo: number, hi: number): number => lo + r() * (hi - lo);

const progress = (text: string): void => {
  process.stderr.write(`[faults ${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${text}\n`);
};
const T0 = performance.now();

// ---------------------------------------------------------------------------------------------
// Temp folders, mounts and children: all undone on exit, on failure and on Ctrl-C.

const root = mkdtempSync(join(tmpdir(), 'trainledger-faults-'));
const mounts: string[] = [];
const children = new Set<ChildProcess>();
let cleaned = false;

function sh(cmd: string, args: readonly string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`.trim());
}

function mountedUnder(dir: string): string[] {
  try {
    return readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
      .filter((m) => m === dir || m.startsWith(`${dir}/`));
  } catch {
    return [];
  }
}

function unmount(dir: string): void {
  const i = mounts.lastIndexOf(dir);
  if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
  if (i >= 0) mounts.splice(i, 1);
}

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
}

function bindReadOnly(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  sh('mount', ['--bind', src, dst]);
  mounts.push(dst);
  sh('mount', ['-o', 'remount,ro,bind', dst]);
}

function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone
    }
  }
  for (const m of [...mounts].reverse()) unmount(m);
  // Only the mounts this run made can be under its own folder; never delete through one.
  const left = mountedUnder(root);
  for (const m of left.reverse()) spawnSync('umount', ['-l', m]);
  if (mountedUnder(root).length > 0) {
    process.stderr.write(`[faults] still mounted under ${root}: ${mountedUnder(root).join(', ')}; not deleting it\n`);
  } else if (KEEP) {
    process.stderr.write(`[faults] kept ${root}\n`);
  } else {
    rmSync(root, { recursive: true, force: true });
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n[faults] ${sig}: cleaning up\n`);
    cleanup();
    process.exit(130);
  });
}
process.on('uncaughtException', (e) => {
  process.stderr.write(`[faults] ${e.stack ?? String(e)}\n`);
  cleanup();
  process.exit(1);
});

let dirCount = 0;
function newDir(name: string): string {
  const dir = join(root, `${String(++dirCount).padStart(4, '0')}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
const removeDir = (dir: string): void => {
  if (!KEEP && mountedUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Child processes

interface Proc {
  readonly proc: ChildProcess;
  readonly pid: number;
  out: string;
  err: string;
  exited: boolean;
  readonly exit: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>;
  /** Resolves at the trainer's "start N" line, or when it exits. */
  readonly started: Promise<void>;
  /** The trainer's "error {...}" line, parsed. */
  error(): { name: string; typed: boolean; code: string | null; message: string; causes: string[] } | null;
}

function spawnTracked(args: readonly string[], timeoutMs = CHILD_TIMEOUT_MS): Proc {
  const proc = spawn(process.execPath, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
  children.add(proc);
  let markStarted: () => void = () => {};
  const started = new Promise<void>((r) => (markStarted = r));
  const p: Proc = {
    proc,
    pid: proc.pid!,
    out: '',
    err: '',
    exited: false,
    started,
    exit: new Promise((resolve) => {
      const timer = setTimeout(() => {
        p.err += `\n[killed by the fault matrix after ${timeoutMs / 1000} s: hung]`;
        proc.kill('SIGKILL');
      }, timeoutMs);
      proc.on('exit', (code, signal) => {
        clearTimeout(timer);
        p.exited = true;
        children.delete(proc);
        markStarted();
        resolve({ code, signal });
      });
    }),
    error() {
      const m = /^error (.*)$/m.exec(p.out);
      if (!m) return null;
      try {
        return JSON.parse(m[1]!) as ReturnType<Proc['error']>;
      } catch {
        return null;
      }
    },
  };
  proc.stdout!.on('data', (d) => {
    p.out += String(d);
    if (/^start \d+/m.test(p.out)) markStarted();
  });
  proc.stderr!.on('data', (d) => (p.err += String(d)));
  return p;
}

interface TrainerConfig {
  readonly dir: string;
  readonly steps: number;
  readonly log?: string;
  readonly ckpt?: string;
  readonly walCkpt?: boolean;
  readonly durability?: 'step' | 'fsync';
  readonly bulk?: number;
}
const logOf = (c: TrainerConfig): string => c.log ?? join(c.dir, 'log.sqlite');
const ckptOf = (c: TrainerConfig): string => c.ckpt ?? join(c.dir, 'ckpt');

function startTrainer(c: TrainerConfig): Proc {
  return spawnTracked([
    '--import',
    'tsx',
    trainerChild,
    c.dir,
    String(c.steps),
    ...(c.log ? ['--log', c.log] : []),
    ...(c.ckpt ? ['--ckpt', c.ckpt] : []),
    ...(c.walCkpt ? ['--wal-ckpt'] : []),
    ...(c.durability ? ['--durability', c.durability] : []),
    ...(c.bulk ? ['--bulk', String(c.bulk)] : []),
  ]);
}

const tail = (text: string, n = 400): string => text.trim().slice(-n).replace(/\s+/g, ' ');

// ---------------------------------------------------------------------------------------------
// What a reader saw committed, and what is there afterwards

interface Row {
  readonly step: boolean;
  readonly hash: string;
}
type Rows = Map<string, Row>;
const hashOf = (b: Uint8Array): string => createHash('sha1').update(b).digest('base64');

/** Polls the log with a read-only connection of its own, as a reader on another process would. */
class Watcher {
  readonly seen: Rows = new Map();
  #run = -1;
  #seq = -1;
  #timer: NodeJS.Timeout | undefined;
  polls = 0;
  constructor(public path: string) {}
  poll(): void {
    if (!existsSync(this.path)) return;
    let db: Database.Database | undefined;
    try {
      db = new Database(this.path, { readonly: true, fileMustExist: true });
      const rows = db
        .prepare('SELECT run_id, seq, step_iter, body FROM batches WHERE run_id > ? OR (run_id = ? AND seq > ?) ORDER BY run_id, seq')
        .raw()
        .all(this.#run, this.#run, this.#seq) as [number, number, number | null, Uint8Array][];
      for (const [run, seq, step, body] of rows) {
        this.seen.set(`${run}:${seq}`, { step: step !== null, hash: hashOf(body) });
        this.#run = run;
        this.#seq = seq;
      }
      this.polls++;
    } catch {
      // Not created yet, or busy: the next poll sees it.
    } finally {
      db?.close();
    }
  }
  start(ms = 40): void {
    this.stop();
    this.#timer = setInterval(() => this.poll(), ms);
  }
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Every batch SQLite itself can read (no trainledger code), or null. */
function rawRows(path: string): Rows | null {
  if (!existsSync(path)) return null;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const out: Rows = new Map();
    for (const [run, seq, step, body] of db.prepare('SELECT run_id, seq, step_iter, body FROM batches').raw().all() as [number, number, number | null, Uint8Array][]) {
      out.set(`${run}:${seq}`, { step: step !== null, hash: hashOf(body) });
    }
    return out;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}

function integrity(path: string): string {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return String(db.pragma('integrity_check', { simple: true }));
  } catch (e) {
    return (e as Error).message;
  } finally {
    db?.close();
  }
}

interface LibRead {
  readonly ok: boolean;
  readonly typed: boolean;
  readonly error: string;
  readonly rows: Rows | null;
}
const errText = (e: unknown): string => `${(e as Error)?.constructor?.name ?? typeof e}${(e as { code?: string })?.code ? `(${(e as { code?: string }).code})` : ''}: ${tail(String((e as Error)?.message ?? e), 200)}`;

/** The library's view: open read-only, list runs, read every batch and replay every run. */
function libRead(path: string): LibRead {
  let log: LogFile | undefined;
  try {
    log = LogFile.open(path, { readonly: true });
    const rows: Rows = new Map();
    for (const run of log.runs()) {
      for (const b of log.batches(run.id)) rows.set(`${run.id}:${b.seq}`, { step: b.stepIter !== null, hash: hashOf(b.body) });
      replayRun(log, run.id);
    }
    return { ok: true, typed: true, error: '', rows };
  } catch (e) {
    return { ok: false, typed: e instanceof TrainledgerError, error: errText(e), rows: null };
  } finally {
    try {
      log?.close();
    } catch {
      // closing a broken log
    }
  }
}

function withoutTiming(text: string): string[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const o = JSON.parse(l.replace(/NaN|-?Infinity/g, '"$&"')) as Record<string, unknown>;
      for (const k of ['time', 'data_time', 'rank_data_time', 'eta_seconds']) delete o[k];
      return JSON.stringify(o);
    });
}

/** metrics.json regenerated from the log (timing values left out) and the run's status, or the error. */
function replayedMetrics(path: string, scratch: string): { lines: string[] | null; status: string; error: string } {
  let log: LogFile | undefined;
  const out = join(scratch, `replayed-${Math.random().toString(36).slice(2)}.json`);
  try {
    log = LogFile.open(path, { readonly: true });
    const { state } = exportRun(log, log.run(RUN_NAME).id, { json: out });
    return { lines: withoutTiming(readFileSync(out, 'utf8')), status: state.info.status, error: '' };
  } catch (e) {
    return { lines: null, status: '', error: errText(e) };
  } finally {
    log?.close();
    rmSync(out, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Trials

class Trial {
  recovered: boolean | null = null;
  readable = true;
  bricked = false;
  readonly lostKeys = new Set<string>();
  readonly changedKeys = new Set<string>();
  /** Resumed runs whose replayed metrics differ from the uninterrupted run's. */
  metricsDiffer = false;
  /** Bit flips: same | detected | silent | crash. */
  outcome = '';
  readonly untyped: string[] = [];
  readonly notes: string[] = [];
  /** Whether the kill landed where it was aimed (null: not aimed). */
  landed: boolean | null = null;
  /** The fault could not be produced (the volume never filled...). */
  noFault = false;
  harnessError = '';
  /** Steps cut off by the fault itself (wal-trunc), not counted as lost. */
  cutByFault = 0;
  /** The iteration the resumed run started at ("start N"). */
  resumeStart: number | null = null;
  constructor(
    readonly cls: string,
    readonly i: number,
  ) {}
  get silent(): boolean {
    return this.outcome === 'silent' || this.metricsDiffer || [...this.changedKeys].some((k) => !this.lostKeys.has(k));
  }
  get lost(): number {
    return this.lostKeys.size;
  }
}

/**
 * Reads the log after a fault (stage "after the fault", "after the resume"...): readability
 * by the library; committed batches seen before that are missing or changed.
 */
function check(t: Trial, path: string, seen: Rows, stage: string, options: { readonly final?: boolean } = {}): void {
  if (!existsSync(path) && seen.size === 0) return; // killed before the log existed
  const lib = libRead(path);
  if (!lib.ok) {
    t.readable = false;
    t.notes.push(`${stage}: the library cannot read it: ${lib.error}`);
    if (!lib.typed) t.untyped.push(`${stage}: ${lib.error}`);
    if (options.final) t.bricked = true;
  }
  const rows = lib.rows ?? rawRows(path);
  if (rows === null) return;
  for (const [k, r] of seen) {
    const now = rows.get(k);
    if (now === undefined) t.lostKeys.add(k);
    else if (now.hash !== r.hash) t.changedKeys.add(k);
  }
  const check = integrity(path);
  if (check !== 'ok') t.notes.push(`${stage}: integrity_check: ${tail(check, 120)}`);
}

interface Reference {
  readonly dir: string;
  readonly log: string;
  readonly trainMs: number;
  readonly lines: string[];
  readonly weights: Buffer;
}
const references = new Map<string, Promise<Reference>>();
/** An uninterrupted run of the same configuration: what every resumed run must replay to. */
function reference(bulk: number): Promise<Reference> {
  const key = String(bulk);
  let p = references.get(key);
  if (p === undefined) {
    p = (async () => {
      const dir = newDir(`reference-bulk${bulk}`);
      const c: TrainerConfig = { dir, steps: bulk ? BULK_STEPS : STEPS, bulk };
      const child = startTrainer(c);
      await child.started;
      const t = performance.now();
      const { code } = await child.exit;
      const trainMs = performance.now() - t;
      if (code !== 0) throw new Error(`the uninterrupted reference run (bulk ${bulk}) failed: ${tail(child.err)}`);
      const { lines, error } = replayedMetrics(logOf(c), dir);
      if (lines === null) throw new Error(`cannot replay the reference run: ${error}`);
      progress(`reference run${bulk ? ` (+${bulk} scalars/step)` : ''}: ${c.steps} steps in ${(trainMs / 1000).toFixed(1)} s`);
      return { dir, log: logOf(c), trainMs, lines, weights: readFileSync(join(ckptOf(c), 'model_final', 'weights.bin')) };
    })();
    references.set(key, p);
  }
  return p;
}

/** After the resumed run: the final checks, and its metrics against the uninterrupted run's. */
async function finalCheck(t: Trial, c: TrainerConfig, seen: Rows, ref: Reference): Promise<void> {
  check(t, logOf(c), seen, 'after the resume', { final: true });
  const { lines, status, error } = replayedMetrics(logOf(c), c.dir);
  if (lines === null) {
    if (!t.bricked) t.notes.push(`after the resume: cannot export: ${error}`);
    return;
  }
  const differing = ref.lines.reduce((n, l, i) => n + (lines[i] === l ? 0 : 1), 0) + Math.max(0, lines.length - ref.lines.length);
  const prefix = lines.length < ref.lines.length && lines.every((l, i) => l === ref.lines[i]);
  if (status !== 'completed' && t.recovered) {
    // The resumed process exited 0, but the run it left is not complete in the log.
    t.recovered = false;
    t.notes.push(
      `the resumed run exited 0 but its log does not end completed (status ${status}, ${lines.length} of ${ref.lines.length} metrics lines)${t.resumeStart !== null && t.resumeStart >= c.steps ? `: the resume started at iteration ${t.resumeStart}, the end, so no step ran and nothing appended the run's last write point and run-completed` : ''}`,
    );
  }
  if (differing > 0 && !(prefix && status !== 'completed')) {
    t.metricsDiffer = true;
    const i = ref.lines.findIndex((l, j) => lines[j] !== l);
    t.notes.push(`replayed metrics differ from the uninterrupted run on ${differing} lines (first: line ${i + 1}: ${tail(lines[i] ?? '(missing)', 160)})`);
  }
  const weights = join(ckptOf(c), 'model_final', 'weights.bin');
  if (existsSync(weights) && !readFileSync(weights).equals(ref.weights)) t.notes.push('final weights differ from the uninterrupted run');
}

async function resume(t: Trial, c: TrainerConfig, watcher: Watcher): Promise<boolean> {
  watcher.path = logOf(c);
  const child = startTrainer(c);
  watcher.start();
  const { code, signal } = await child.exit;
  watcher.stop();
  watcher.poll();
  t.recovered = code === 0;
  const started = /^start (\d+)/m.exec(child.out);
  t.resumeStart = started ? Number(started[1]) : null;
  if (!t.recovered) {
    const err = child.error();
    t.notes.push(`the resumed run failed (${code ?? signal}): ${err ? `${err.name}: ${tail(err.message, 200)}` : tail(child.err)}`);
    if (err && !err.typed) t.untyped.push(`resume: ${err.name}: ${tail(err.message, 160)}`);
  }
  return t.recovered;
}

// --- aiming kills ------------------------------------------------------------------------------

type Target =
  | { readonly kind: 'random'; readonly atMs: number }
  | { readonly kind: 'io'; readonly armMs: number; readonly label: string; readonly match: (a: IoActivity) => boolean }
  | { readonly kind: 'ckpt-tmp'; readonly armMs: number; readonly dir: string; readonly sweeps: number };

interface KillOutcome {
  readonly killed: boolean;
  readonly phase: string;
  readonly landed: boolean | null;
  readonly afterMs: number;
}

/** Kills `p` with SIGKILL as `target` says, polling `watcher` until then; false if it ended first. */
async function killAt(p: Proc, c: TrainerConfig, target: Target, watcher: Watcher): Promise<KillOutcome> {
  await p.started;
  const t0 = performance.now();
  const files = { log: logOf(c), ckptDir: ckptOf(c) };
  const done = (): KillOutcome => ({ killed: false, phase: '', landed: null, afterMs: performance.now() - t0 });
  if (p.exited) return done();
  const waitMs = target.kind === 'random' ? target.atMs : target.armMs;
  await Promise.race([sleep(waitMs), p.exit]);
  if (p.exited) return done();
  const kill = (phase: string, landed: boolean | null): KillOutcome => {
    p.proc.kill('SIGKILL');
    return { killed: true, phase, landed, afterMs: performance.now() - t0 };
  };
  if (target.kind === 'random') {
    watcher.poll();
    return kill(phaseOf(ioActivity(p.pid), files), null);
  }
  if (ioActivity(p.pid) === null) {
    // /proc cannot tell: kill at a random moment instead (reported as not landed).
    await Promise.race([sleep(Math.random() * 1000), p.exit]);
    if (p.exited) return done();
    return kill('unknown', false);
  }
  let countdown = -1;
  let tmpName = '';
  while (!p.exited) {
    const until = performance.now() + 3;
    while (performance.now() < until) {
      if (target.kind === 'io') {
        const act = ioActivity(p.pid) ?? [];
        const hit = act.find(target.match);
        if (hit) return kill(`${target.label} (${hit.kind} ${hit.path.slice(hit.path.lastIndexOf('/') + 1)})`, true);
      } else {
        let entries: string[] = [];
        try {
          entries = readdirSync(target.dir);
        } catch {
          // not created yet
        }
        const tmp = entries.find((e) => e.startsWith('.') && e.includes('.tmp-'));
        if (tmp === undefined) countdown = -1;
        else {
          if (tmp !== tmpName || countdown < 0) countdown = Math.floor(Math.random() * target.sweeps);
          tmpName = tmp;
          if (countdown-- === 0) return kill(`model checkpoint being written (${tmp.replace(/\.tmp-.*/, '').slice(1)})`, true);
        }
      }
      sleepSync(0.1);
    }
    await new Promise((r) => setImmediate(r));
  }
  return done();
}

// --- a: kills ----------------------------------------------------------------------------------

async function killTrial(cls: string, i: number): Promise<Trial> {
  const t = new Trial(cls, i);
  const r = rngFor(cls, i);
  const ref = await reference(0);
  let dir = newDir(`${cls}-${i}`);
  let c: TrainerConfig = { dir, steps: STEPS, walCkpt: cls === 'kill-walckpt', durability: cls === 'kill-commit' ? 'fsync' : 'step' };
  const watcher = new Watcher(logOf(c));
  let outcome: KillOutcome | null = null;
  let child: Proc | null = null;
  for (let attempt = 0; attempt < 3 && outcome === null; attempt++) {
    if (attempt > 0) {
      // The run ended before the kill came: start over, so that the kill lands in a live run.
      removeDir(dir);
      dir = newDir(`${cls}-${i}-again`);
      c = { ...c, dir };
      watcher.seen.clear();
      watcher.path = logOf(c);
    }
    const arm = uniform(r, 0, 0.8) * ref.trainMs;
    const target: Target =
      attempt === 2 || cls === 'kill-step'
        ? { kind: 'random', atMs: uniform(r, 0.02, 1) * ref.trainMs * (attempt === 2 ? 0.5 : 1) }
        : cls === 'kill-commit'
          ? { kind: 'io', armMs: arm, label: 'commit', match: (a) => a.kind === 'sync' && a.path === `${logOf(c)}-wal` }
          : cls === 'kill-walckpt'
            ? { kind: 'io', armMs: arm, label: 'WAL checkpoint', match: (a) => a.path === logOf(c) }
            : { kind: 'ckpt-tmp', armMs: arm, dir: ckptOf(c), sweeps: 40 };
    child = startTrainer(c);
    watcher.start();
    const o = await killAt(child, c, target, watcher);
    await child.exit;
    watcher.stop();
    if (o.killed) {
      outcome = { ...o, landed: cls === 'kill-step' ? o.phase === 'step' : target.kind === 'random' ? false : o.landed };
    } else {
      const { code, signal } = await child.exit;
      if (code !== 0) {
        // Not our kill: a crash of its own (a signal), or an error it reported.
        const err = child.error();
        t.notes.push(`a run failed without a fault (${code ?? signal}): ${err ? `${err.name}: ${tail(err.message, 160)}` : tail(child.err, 200)}`);
        if (!err?.typed) t.untyped.push(`a run died without a fault (${code ?? signal})`);
      }
    }
  }
  if (outcome === null) {
    t.noFault = true;
    t.notes.push('three runs ended before the kill came');
    removeDir(dir);
    return t;
  }
  t.landed = outcome.landed;
  if (/fallback/.test(child?.out ?? '')) t.notes.push('WAL checkpoints by the child itself (the pragma had no effect)');
  const leftover = existsSync(ckptOf(c)) ? readdirSync(ckptOf(c)).filter((e) => e.includes('.tmp-')) : [];
  check(t, logOf(c), watcher.seen, 'after the kill');
  await resume(t, c, watcher);
  await finalCheck(t, c, watcher.seen, ref);
  progress(
    `${cls} #${i + 1}: killed after ${(outcome.afterMs / 1000).toFixed(2)} s in ${outcome.phase}${leftover.length ? ' (checkpoint left half-written)' : ''}; ${watcher.seen.size} batches seen; resumed ${t.recovered ? 'ok' : 'FAILED'}; lost ${t.lost}, changed ${t.changedKeys.size}${t.metricsDiffer ? ', METRICS DIFFER' : ''}`,
  );
  removeDir(dir);
  return t;
}

// --- b: log volume full ------------------------------------------------------------------------

async function logFullTrial(i: number): Promise<Trial> {
  const t = new Trial('log-full', i);
  const r = rngFor('log-full', i);
  const ref = await reference(BULK);
  const dir = newDir(`log-full-${i}`);
  const vol = join(dir, 'small');
  mountTmpfs(vol, '2m');
  let c: TrainerConfig = { dir, steps: BULK_STEPS, bulk: BULK, log: join(vol, 'log.sqlite') };
  const watcher = new Watcher(logOf(c));
  try {
    // A filler of random size: the volume fills at a different step each trial.
    writeFileSync(join(vol, 'filler'), Buffer.alloc(Math.floor(uniform(r, 0, 900_000))));
    const child = startTrainer(c);
    watcher.start();
    const { code } = await child.exit;
    watcher.stop();
    watcher.poll();
    const err = child.error();
    if (code === 0) {
      t.noFault = true;
      t.notes.push('the run finished: the volume never filled');
    } else if (!err) {
      t.notes.push(`the run died without reporting an error (${code}): ${tail(child.err)}`);
      t.untyped.push('no error reported');
    } else {
      const isWriteError = err.name === 'LogWriteError' || err.causes.some((x) => x.startsWith('LogWriteError'));
      t.notes.push(`failed with ${err.name}${err.name !== 'LogWriteError' && isWriteError ? ' (cause LogWriteError)' : ''}: ${tail(err.message, 140)}`);
      if (!err.typed) t.untyped.push(`${err.name}: ${tail(err.message, 160)}`);
      else if (!isWriteError) t.notes.push('expected LogWriteError');
    }
    check(t, logOf(c), watcher.seen, 'on the full volume');
    // Move the log to a bigger volume: a copy of its files, then the full volume goes away.
    const big = join(dir, 'big');
    mkdirSync(big);
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(`${logOf(c)}${suffix}`)) copyFileSync(`${logOf(c)}${suffix}`, join(big, `log.sqlite${suffix}`));
    unmount(vol);
    c = { ...c, log: join(big, 'log.sqlite') };
    check(t, logOf(c), watcher.seen, 'copied to a bigger volume');
    await resume(t, c, watcher);
    await finalCheck(t, c, watcher.seen, ref);
  } finally {
    if (mounts.includes(vol)) unmount(vol);
  }
  progress(`log-full #${i + 1}: ${t.notes[0] ?? ''}; ${watcher.seen.size} batches seen; resumed ${t.recovered ? 'ok' : 'FAILED'}; lost ${t.lost}, changed ${t.changedKeys.size}${t.metricsDiffer ? ', METRICS DIFFER' : ''}`);
  removeDir(dir);
  return t;
}

// --- c: checkpoint volume full -----------------------------------------------------------------

async function ckptFullTrial(i: number): Promise<Trial> {
  const t = new Trial('ckpt-full', i);
  const r = rngFor('ckpt-full', i);
  const ref = await reference(0);
  const dir = newDir(`ckpt-full-${i}`);
  const vol = join(dir, 'small');
  mountTmpfs(vol, '1m');
  const c: TrainerConfig = { dir, steps: STEPS, ckpt: join(vol, 'ckpt') };
  const watcher = new Watcher(logOf(c));
  try {
    writeFileSync(join(vol, 'filler'), Buffer.alloc(Math.floor(uniform(r, 0, 600_000))));
    const child = startTrainer(c);
    watcher.start();
    const { code } = await child.exit;
    watcher.stop();
    watcher.poll();
    const err = child.error();
    if (code === 0) {
      t.noFault = true;
      t.notes.push('the run finished: the volume never filled');
    } else if (!err) {
      t.notes.push(`the run died without reporting an error (${code}): ${tail(child.err)}`);
      t.untyped.push('no error reported');
    } else {
      t.notes.push(`failed with ${err.name}${err.code ? ` ${err.code}` : ''}${err.causes.length ? ` ← ${tail(err.causes[0]!, 80)}` : ''}`);
      if (!err.typed) t.untyped.push(`${err.name}: ${tail(err.message, 160)}`);
    }
    check(t, logOf(c), watcher.seen, 'after the failure');
    sh('mount', ['-o', 'remount,size=64m', vol]);
    await resume(t, c, watcher);
    await finalCheck(t, c, watcher.seen, ref);
  } finally {
    if (mounts.includes(vol)) unmount(vol);
  }
  progress(`ckpt-full #${i + 1}: ${t.notes[0] ?? ''}; resumed ${t.recovered ? 'ok' : 'FAILED'}; lost ${t.lost}, changed ${t.changedKeys.size}${t.metricsDiffer ? ', METRICS DIFFER' : ''}`);
  removeDir(dir);
  return t;
}

// --- d: byte flips -----------------------------------------------------------------------------

async function bitflipTrials(count: number): Promise<Trial[]> {
  const ref = await reference(0);
  const dir = newDir('bitflip');
  const base = join(dir, 'base.sqlite');
  copyFileSync(ref.log, base);
  if (existsSync(`${ref.log}-wal`)) copyFileSync(`${ref.log}-wal`, `${base}-wal`);
  let pages: number[];
  let pageSize: number;
  let where: string;
  {
    const db = new Database(base);
    try {
      db.pragma('wal_checkpoint(TRUNCATE)');
      pageSize = db.pragma('page_size', { simple: true }) as number;
      try {
        pages = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'batches'").raw().all() as [number][]).map((x) => x[0]);
        where = `${pages.length} pages of the batches table (dbstat)`;
      } catch {
        const n = db.pragma('page_count', { simple: true }) as number;
        pages = Array.from({ length: n - 1 }, (_, k) => k + 2);
        where = `any of pages 2..${n} (no dbstat)`;
      }
    } finally {
      db.close();
    }
  }
  for (const f of [`${base}-wal`, `${base}-shm`]) rmSync(f, { force: true });
  const trials: FlipTrial[] = [];
  for (let i = 0; i < count; i++) {
    const r = rngFor('bitflip', i);
    const page = pages[Math.floor(r() * pages.length)]!;
    trials.push({ i, offset: (page - 1) * pageSize + Math.floor(r() * pageSize), mask: 1 + Math.floor(r() * 255) });
  }
  progress(`bitflip: ${count} flips in ${where}`);
  const results = new Map<number, { outcome: string; detail: string; opened: boolean }>();
  const workers = Math.min(JOBS, 2);
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let mine = trials.filter((x) => x.i % workers === w);
      while (mine.length > 0) {
        const work = newDir(`bitflip-worker${w}`);
        const cfg: FlipConfig = { base, work, runName: RUN_NAME, trials: mine };
        writeFileSync(join(work, 'config.json'), JSON.stringify(cfg));
        const p = spawnTracked(['--import', 'tsx', faultChild, 'flips', join(work, 'config.json')]);
        let reported = 0;
        let lastLine = performance.now();
        const timer = setInterval(() => {
          // A trial that takes this long hangs: that is a crash of the reader.
          if (performance.now() - lastLine > 30_000) p.proc.kill('SIGKILL');
        }, 1000);
        p.proc.stdout!.on('data', () => {
          const lines = p.out.split('\n').filter((l) => l.startsWith('{'));
          for (; reported < lines.length; reported++) {
            const x = JSON.parse(lines[reported]!) as { i: number; outcome: string; detail: string; opened: boolean };
            results.set(x.i, x);
          }
          lastLine = performance.now();
        });
        const { code, signal } = await p.exit;
        clearInterval(timer);
        const pending = mine.filter((x) => !results.has(x.i));
        if (pending.length > 0) {
          // The reader died on the first pending trial: record it, go on with the rest.
          const hung = performance.now() - lastLine > 30_000;
          results.set(pending[0]!.i, { outcome: 'crash', detail: hung ? 'the reader hung (30 s)' : `the reader process died (${code ?? signal}): ${tail(p.err, 200)}`, opened: false });
          progress(`bitflip: reader process ${hung ? 'hung' : 'died'} on flip ${pending[0]!.i}`);
        }
        mine = pending.slice(1);
        removeDir(work);
      }
    }),
  );
  removeDir(dir);
  return trials.map((x) => {
    const t = new Trial('bitflip', x.i);
    const res = results.get(x.i) ?? { outcome: 'crash', detail: 'no result', opened: false };
    t.outcome = res.outcome;
    t.readable = res.outcome !== 'crash';
    if (res.outcome === 'crash') t.untyped.push(`flip at byte ${x.offset} (page ${Math.floor(x.offset / pageSize) + 1}) ^0x${x.mask.toString(16)}: ${res.detail}`);
    if (!res.opened) t.bricked = true;
    if (res.detail) t.notes.push(`${res.outcome}: ${res.outcome === 'silent' ? `flip of byte ${x.offset % pageSize} of page ${Math.floor(x.offset / pageSize) + 1} (^0x${x.mask.toString(16)}): ` : ''}${res.detail}`);
    return t;
  });
}

// --- e: truncated WAL --------------------------------------------------------------------------

async function walTruncTrials(group: number, indices: readonly number[]): Promise<Trial[]> {
  const ref = await reference(0);
  const r = rngFor('wal-trunc-source', group);
  // The killed run every trial of this group cuts a copy of. The kill is aimed at a share of the
  // reference run's time; a run that outpaced it (the machine got less busy) is run again, aimed
  // earlier, so the fault happens unless the machine keeps changing speed.
  let src: string;
  let c0: TrainerConfig;
  let watcher: Watcher;
  let o: KillOutcome;
  for (let attempt = 0; ; attempt++) {
    src = newDir(`wal-trunc-source-${group}`);
    c0 = { dir: src, steps: STEPS };
    watcher = new Watcher(logOf(c0));
    const child = startTrainer(c0);
    watcher.start();
    o = await killAt(child, c0, { kind: 'random', atMs: (uniform(r, 0.4, 0.95) * ref.trainMs) / 2 ** attempt }, watcher);
    await child.exit;
    watcher.stop();
    if (o.killed || attempt === RETRIES) break;
    progress(`wal-trunc: source run finished before the kill (attempt ${attempt + 1}); again, aimed earlier`);
    removeDir(src);
  }
  const out: Trial[] = [];
  const pristine = newDir(`wal-trunc-source-${group}-pristine`);
  cpSync(src, pristine, { recursive: true });
  const wal = `${logOf(c0)}-wal`;
  const walBytes = existsSync(wal) ? readFileSync(wal) : Buffer.alloc(0);
  const frames = walFrames(walBytes);
  progress(`wal-trunc: source run ${o.killed ? `killed after ${(o.afterMs / 1000).toFixed(2)} s` : 'finished before the kill'}: WAL of ${walBytes.length} bytes, ${frames.commitEnds.length} commits; ${watcher.seen.size} batches seen`);
  for (const i of indices) {
    const t = new Trial('wal-trunc', i);
    const tr = rngFor('wal-trunc', i);
    if (!o.killed || walBytes.length <= 32) {
      t.noFault = true;
      t.notes.push(o.killed ? 'no WAL to cut' : 'the source run finished before the kill');
      out.push(t);
      continue;
    }
    // Each trial cuts a fresh copy of the killed run, in the run's own folder: writers are
    // recorded by their files' absolute paths, so a resume from another folder would be
    // another writer (see the notes of the report).
    rmSync(src, { recursive: true, force: true });
    cpSync(pristine, src, { recursive: true });
    const c = c0;
    const cut = Math.floor(tr() * walBytes.length);
    truncateSync(`${logOf(c)}-wal`, cut);
    // What the cut leaves: the transactions whose commit frame ends before it. SQLite itself
    // reads a copy of exactly that prefix (no -shm): the steps there must survive.
    const kept = frames.commitEnds.filter((e) => e <= cut);
    const prefix = kept.at(-1) ?? 0;
    const oracleDir = newDir(`wal-trunc-${i}-oracle`);
    copyFileSync(logOf(c0), join(oracleDir, 'log.sqlite'));
    if (prefix > 0) writeFileSync(join(oracleDir, 'log.sqlite-wal'), walBytes.subarray(0, prefix));
    const oracleRows = rawRows(join(oracleDir, 'log.sqlite'));
    const oracle = oracleRows ?? new Map<string, Row>();
    removeDir(oracleDir);
    const expected: Rows = new Map([...watcher.seen].filter(([k]) => oracle.has(k)));
    t.cutByFault = watcher.seen.size - expected.size;
    if (oracleRows === null) {
      // The cut left no committed schema at all (nothing was checkpointed yet): SQLite itself
      // sees an empty database, so a reader's NotALogError is the right answer, not a failure.
      const lib = libRead(logOf(c));
      t.notes.push(`the cut left no committed schema (SQLite reads an empty database); the library says: ${lib.ok ? 'readable' : lib.error.replace(/: \/.*?log\.sqlite/, ':')}`);
      if (!lib.ok && !lib.typed) t.untyped.push(`after the cut: ${lib.error}`);
    } else check(t, logOf(c), expected, 'after the cut');
    const w2 = new Watcher(logOf(c));
    for (const [k, v] of expected) w2.seen.set(k, v);
    await resume(t, c, w2);
    await finalCheck(t, c, expected, ref);
    progress(
      `wal-trunc #${i + 1}: WAL cut at ${cut} of ${walBytes.length} bytes (${kept.length} of ${frames.commitEnds.length} commits intact); ${expected.size} seen batches in the intact part, ${t.cutByFault} cut off; resumed ${t.recovered ? 'ok' : 'FAILED'}; lost ${t.lost}, changed ${t.changedKeys.size}${t.metricsDiffer ? ', METRICS DIFFER' : ''}`,
    );
    out.push(t);
  }
  removeDir(src);
  removeDir(pristine);
  return out;
}

// --- f: deleted -shm ---------------------------------------------------------------------------

async function shmDeleteTrial(i: number): Promise<Trial> {
  const t = new Trial('shm-delete', i);
  const r = rngFor('shm-delete', i);
  const live = i % 2 === 1;
  const ref = await reference(0);
  let dir: string;
  let c: TrainerConfig;
  let watcher: Watcher;
  let child: Proc;
  let deleted = false;
  let what = '';
  // As for the WAL cut: a run that outpaced the reference is run again with the fault aimed earlier.
  for (let attempt = 0; ; attempt++) {
    const scale = 1 / 2 ** attempt;
    dir = newDir(`shm-delete-${i}`);
    c = { dir, steps: STEPS };
    const shm = `${logOf(c)}-shm`;
    watcher = new Watcher(logOf(c));
    child = startTrainer(c);
    watcher.start();
    if (live) {
      await child.started;
      await Promise.race([sleep(uniform(r, 0.1, 0.6) * ref.trainMs * scale), child.exit]);
      if (!child.exited && existsSync(shm)) {
        rmSync(shm);
        deleted = true;
      }
      const o = await killAt(child, c, { kind: 'random', atMs: uniform(r, 0.2, 0.5) * ref.trainMs * scale }, watcher);
      what = `deleted while live${o.killed ? `, then killed ${(o.afterMs / 1000).toFixed(2)} s later` : ', the run then finished'}`;
    } else {
      const o = await killAt(child, c, { kind: 'random', atMs: uniform(r, 0.1, 0.9) * ref.trainMs * scale }, watcher);
      await child.exit;
      if (o.killed && existsSync(shm)) {
        rmSync(shm);
        deleted = true;
      }
      what = o.killed ? `killed after ${(o.afterMs / 1000).toFixed(2)} s, then deleted` : 'the run finished (nothing to delete)';
    }
    await child.exit;
    watcher.stop();
    if (deleted || attempt === RETRIES) break;
    progress(`shm-delete #${i + 1}: ${what} (attempt ${attempt + 1}); again, aimed earlier`);
    removeDir(dir);
  }
  if (!deleted) {
    t.noFault = true;
    t.notes.push('no -shm to delete');
  }
  if (child.error()) t.notes.push(`the run failed: ${child.error()!.name}: ${tail(child.error()!.message, 160)}`);
  check(t, logOf(c), watcher.seen, 'after the deletion');
  await resume(t, c, watcher);
  await finalCheck(t, c, watcher.seen, ref);
  progress(`shm-delete #${i + 1}: ${what}; ${watcher.seen.size} batches seen; resumed ${t.recovered ? 'ok' : 'FAILED'}; lost ${t.lost}, changed ${t.changedKeys.size}${t.metricsDiffer ? ', METRICS DIFFER' : ''}`);
  removeDir(dir);
  return t;
}

// --- g: read-only readers ----------------------------------------------------------------------

interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** CLI commands in a child process of their own (one for all, from src/; one each with --cli-bin). */
async function cliRun(commands: ReadonlyArray<readonly string[]>, scratch: string): Promise<CliResult[]> {
  if (CLI_BIN) {
    const out: CliResult[] = [];
    for (const args of commands) {
      const p = spawnTracked([join(repo, 'bin', 'trainledger.js'), ...args], 120_000);
      const { code } = await p.exit;
      out.push({ code, out: p.out.trimEnd(), err: p.err.trimEnd() });
    }
    return out;
  }
  const file = join(scratch, `cli-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(commands));
  const p = spawnTracked(['--import', 'tsx', faultChild, 'cli-batch', file], 120_000);
  const { code, signal } = await p.exit;
  try {
    return JSON.parse(p.out) as CliResult[];
  } catch {
    // The process itself died: every command failed with what it said.
    return commands.map(() => ({ code: code ?? 1, out: '', err: `the CLI process died (${code ?? signal}): ${tail(p.err, 300)}` }));
  }
}

async function roReaderTrial(i: number): Promise<Trial> {
  const t = new Trial('ro-reader', i);
  const r = rngFor('ro-reader', i);
  const withWal = i % 2 === 1;
  const ref = await reference(0);
  const dir = newDir(`ro-reader-${i}`);
  const src = join(dir, 'src');
  let seen: Rows;
  if (withWal) {
    // A killed run: its folder holds log.sqlite, -wal and -shm.
    const c: TrainerConfig = { dir: src, steps: STEPS };
    mkdirSync(src);
    const watcher = new Watcher(logOf(c));
    const child = startTrainer(c);
    watcher.start();
    await killAt(child, c, { kind: 'random', atMs: uniform(r, 0.3, 0.9) * ref.trainMs }, watcher);
    await child.exit;
    watcher.stop();
    seen = watcher.seen;
  } else {
    // A finished, cleanly closed run: log.sqlite alone.
    mkdirSync(src);
    seen = new Map();
  }
  const files = ['log.sqlite', 'log.sqlite-wal', 'log.sqlite-shm'];
  const from = withWal ? src : ref.dir;
  const writable = join(dir, 'writable');
  const backing = join(dir, 'backing');
  const ro = join(dir, 'ro');
  const outDir = join(dir, 'out');
  for (const d of [writable, backing, outDir]) mkdirSync(d);
  for (const f of files) {
    // A cleanly closed log is its database file alone (the reference's folder also holds the
    // -wal and -shm its readers left behind).
    if (!existsSync(join(from, f)) || (!withWal && f !== 'log.sqlite')) continue;
    copyFileSync(join(from, f), join(writable, f));
    copyFileSync(join(from, f), join(backing, f));
  }
  const present = files.filter((f) => existsSync(join(backing, f)));
  if (!withWal) seen = libRead(join(writable, 'log.sqlite')).rows ?? new Map();
  const results: string[] = [];
  try {
    bindReadOnly(backing, ro);
    let failed = 0;
    const commands = [
      ['runs', (d: string) => ['runs', join(d, 'log.sqlite'), '--format', 'json']],
      ['show', (d: string) => ['show', join(d, 'log.sqlite'), '--format', 'json']],
      ['replay', (d: string) => ['replay', join(d, 'log.sqlite'), '--json', join(outDir, `${d === ro ? 'ro' : 'rw'}-metrics.json`)]],
    ] as const;
    const [onWritable, onRo] = await Promise.all([cliRun(commands.map(([, f]) => f(writable)), outDir), cliRun(commands.map(([, f]) => f(ro)), outDir)]);
    for (const [k, [name]] of commands.entries()) {
      const a = onWritable[k]!;
      const b = onRo[k]!;
      const outA = name === 'replay' ? (existsSync(join(outDir, 'rw-metrics.json')) ? readFileSync(join(outDir, 'rw-metrics.json'), 'utf8') : '') : a.out;
      const outB = name === 'replay' ? (existsSync(join(outDir, 'ro-metrics.json')) ? readFileSync(join(outDir, 'ro-metrics.json'), 'utf8') : '') : b.out;
      if (a.code !== 0) t.notes.push(`${name} on the writable copy failed (${a.code}): ${tail(a.err, 160)}`);
      if (b.code !== 0) {
        failed++;
        results.push(`${name} ✗`);
        const said = tail(b.err.trim().split('\n')[0] ?? '', 160);
        t.notes.push(`${name} through the read-only folder failed (exit ${b.code}): ${said}`);
        // runCli prints a TrainledgerError as one line and exits 2; anything else with its stack, 1.
        if (b.code !== 2 || /\n\s+at /.test(b.err)) t.untyped.push(`${name}: ${said}`);
      } else if (a.code === 0 && outA !== outB) {
        results.push(`${name} ≠`);
        t.metricsDiffer = true;
        t.notes.push(`${name} through the read-only folder printed/wrote something else than on the writable copy`);
      } else results.push(`${name} ✓`);
    }
    if (failed > 0) t.readable = false;
    // The library itself, through the read-only folder.
    const lib = libRead(join(ro, 'log.sqlite'));
    if (!lib.ok) {
      t.bricked = true;
      t.readable = false;
      if (!lib.typed) t.untyped.push(`library: ${lib.error}`);
      t.notes.push(`the library cannot read it through the read-only folder: ${lib.error}`);
    } else {
      for (const [k, v] of seen) {
        const now = lib.rows!.get(k);
        if (now === undefined) t.lostKeys.add(k);
        else if (now.hash !== v.hash) t.changedKeys.add(k);
      }
    }
    // Nothing may have been written through (or left in) the read-only folder.
    const after = readdirSync(ro).sort();
    if (after.join() !== present.sort().join()) t.notes.push(`the read-only folder now lists ${after.join(', ')}`);
  } finally {
    if (mounts.includes(ro)) unmount(ro);
  }
  progress(`ro-reader #${i + 1} (${withWal ? 'killed run, with -wal and -shm' : 'closed log, no -wal'}: ${present.join(', ')}): ${results.join(', ')}; library ${t.bricked ? 'FAILS' : 'ok'}; lost ${t.lost}, changed ${t.changedKeys.size}`);
  removeDir(dir);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Run

async function pool<T>(tasks: Array<() => Promise<T>>, jobs: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, tasks.length) }, async () => {
      while (next < tasks.length) {
        const k = next++;
        out[k] = await tasks[k]!();
      }
    }),
  );
  return out;
}

function guarded(cls: string, i: number, fn: () => Promise<Trial | Trial[]>): () => Promise<Trial[]> {
  return async () => {
    try {
      const r = await fn();
      return Array.isArray(r) ? r : [r];
    } catch (e) {
      const t = new Trial(cls, i);
      t.harnessError = (e as Error).stack ?? String(e);
      progress(`${cls} #${i + 1}: the fault matrix itself failed: ${tail(t.harnessError, 300)}`);
      return [t];
    }
  };
}

progress(`fault matrix: ${QUICK ? 'quick, ' : ''}trials ${N}, seed ${SEED}, jobs ${JOBS}, classes ${selected.map((c) => c.id).join(' ')}; in ${root}`);
const wanted = new Set(selected.map((c) => c.id));
const timing = new Map<string, number>();
const tasks: Array<() => Promise<Trial[]>> = [];
const timed = (cls: string, f: () => Promise<Trial[]>) => async (): Promise<Trial[]> => {
  const t = performance.now();
  const r = await f();
  timing.set(cls, (timing.get(cls) ?? 0) + (performance.now() - t));
  return r;
};
const count = (id: string): number => CLASSES.find((c) => c.id === id)!.trials;
// The slowest classes first, so that two jobs finish together.
if (wanted.has('log-full')) for (let i = 0; i < count('log-full'); i++) tasks.push(timed('log-full', guarded('log-full', i, () => logFullTrial(i))));
for (const cls of ['kill-step', 'kill-commit', 'kill-ckpt', 'kill-walckpt']) {
  if (wanted.has(cls)) for (let i = 0; i < count(cls); i++) tasks.push(timed(cls, guarded(cls, i, () => killTrial(cls, i))));
}
if (wanted.has('wal-trunc')) {
  const per = 5;
  for (let g = 0; g * per < count('wal-trunc'); g++) {
    const idx = Array.from({ length: Math.min(per, count('wal-trunc') - g * per) }, (_, k) => g * per + k);
    tasks.push(timed('wal-trunc', guarded('wal-trunc', idx[0]!, () => walTruncTrials(g, idx))));
  }
}
if (wanted.has('shm-delete')) for (let i = 0; i < count('shm-delete'); i++) tasks.push(timed('shm-delete', guarded('shm-delete', i, () => shmDeleteTrial(i))));
if (wanted.has('ckpt-full')) for (let i = 0; i < count('ckpt-full'); i++) tasks.push(timed('ckpt-full', guarded('ckpt-full', i, () => ckptFullTrial(i))));
if (wanted.has('ro-reader')) for (let i = 0; i < count('ro-reader'); i++) tasks.push(timed('ro-reader', guarded('ro-reader', i, () => roReaderTrial(i))));
if (wanted.has('bitflip')) tasks.push(timed('bitflip', guarded('bitflip', 0, () => bitflipTrials(count('bitflip')))));

// References first (both jobs), so that no trial waits for one alone.
await Promise.all([...(['kill-step', 'kill-commit', 'kill-ckpt', 'kill-walckpt', 'ckpt-full', 'bitflip', 'wal-trunc', 'shm-delete', 'ro-reader'].some((c) => wanted.has(c)) ? [reference(0)] : []), ...(wanted.has('log-full') ? [reference(BULK)] : [])]);
const trials = (await pool(tasks, JOBS)).flat();

// ---------------------------------------------------------------------------------------------
// Report

const head = ['fault', 'trials', 'runs recovered', 'logs readable', 'committed steps lost', 'silent value changes', 'bricked logs', 'untyped errors'];
const rows: string[][] = [];
const notes: string[] = [];
let totalLost = 0;
let totalSilent = 0;
let totalBricked = 0;
let totalUntyped = 0;
let unrecovered = 0;
let noFault = 0;
let harness = 0;
for (const cls of selected) {
  const ts = trials.filter((t) => t.cls === cls.id);
  if (ts.length === 0) continue;
  const resumable = ts.filter((t) => t.recovered !== null);
  const recovered = resumable.filter((t) => t.recovered).length;
  const lost = ts.reduce((n, t) => n + t.lost, 0);
  const silent = ts.filter((t) => t.silent).length;
  const bricked = ts.filter((t) => t.bricked || t.harnessError).length;
  const untyped = ts.filter((t) => t.untyped.length > 0).length;
  totalLost += lost;
  totalSilent += silent;
  totalBricked += bricked;
  totalUntyped += untyped;
  unrecovered += resumable.length - recovered;
  noFault += ts.filter((t) => t.noFault).length;
  harness += ts.filter((t) => t.harnessError).length;
  rows.push([
    cls.label,
    String(ts.length),
    resumable.length ? `${recovered}/${resumable.length}` : 'n/a',
    `${ts.filter((t) => t.readable && !t.bricked && !t.harnessError).length}/${ts.length}`,
    String(lost),
    String(silent),
    String(bricked),
    String(untyped),
  ]);
  // Notes: how the faults landed, and what went wrong.
  const lines: string[] = [];
  const aimed = ts.filter((t) => t.landed !== null);
  if (aimed.length) lines.push(`kills that landed where aimed: ${aimed.filter((t) => t.landed).length}/${aimed.length}`);
  if (cls.id === 'bitflip') {
    const by = (o: string) => ts.filter((t) => t.outcome === o).length;
    lines.push(`outcomes: ${by('same')} same values, ${by('detected')} detected (typed error), ${by('silent')} silent change, ${by('crash')} crash (untyped error)`);
    const detected = new Map<string, number>();
    for (const t of ts.filter((x) => x.outcome === 'detected')) {
      const k = (t.notes[0] ?? '').replace(/^detected: /, '').replace(/:.*$/, '');
      detected.set(k, (detected.get(k) ?? 0) + 1);
    }
    if (detected.size) lines.push(`detected as: ${[...detected].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    const example = ts.find((t) => t.outcome === 'silent');
    if (example) lines.push(`e.g. ${tail(example.notes[0] ?? '', 220)}`);
  }
  if (cls.id === 'wal-trunc') lines.push(`seen-committed batches cut off with the WAL itself (not counted as lost): ${ts.reduce((n, t) => n + t.cutByFault, 0)}`);
  const distinct = new Map<string, number>();
  for (const t of ts) {
    for (const n of [...t.notes, ...t.untyped.map((u) => `untyped: ${u}`), ...(t.harnessError ? [`tool error: ${tail(t.harnessError, 200)}`] : [])]) {
      if (cls.id === 'bitflip' && !/^(silent|crash)|^untyped/.test(n)) continue;
      const k =
        cls.id === 'bitflip'
          ? n
              .replace(/^(silent|crash): flip of byte \d+ of page \d+ \(\^0x[0-9a-f]+\): /, '$1: ')
              .replace(/^untyped: flip at byte \d+ \(page \d+\) \^0x[0-9a-f]+: /, 'untyped: ')
              .replace(/the export differs from line \d+ on .*/, 'the export differs (lines missing or changed)')
              .replace(/position \d+/g, 'position #')
          : n.replace(/\d+(\.\d+)? s\b/g, '# s').replace(/\b\d{3,}\b/g, '#');
      distinct.set(k, (distinct.get(k) ?? 0) + 1);
    }
  }
  const list = [...distinct].sort((a, b) => b[1] - a[1]);
  for (const [k, n] of list.slice(0, 8)) lines.push(`${n > 1 ? `${n}× ` : ''}${k}`);
  if (list.length > 8) lines.push(`… and ${list.length - 8} more kinds of note`);
  const secs = (timing.get(cls.id) ?? 0) / 1000;
  notes.push(`${cls.label} (${secs.toFixed(0)} s of trial time):\n${lines.map((l) => `    ${l}`).join('\n') || '    -'}`);
}
const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
const fmt = (r: readonly string[]) => `| ${r.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join(' | ')} |`;
const lines = [fmt(head), `|${widths.map((w, k) => (k === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(fmt)];
const seconds = (performance.now() - T0) / 1000;
process.stdout.write(`\nfault matrix, seed ${SEED}, ${QUICK ? 'quick ' : ''}trials ${N}, ${seconds.toFixed(0)} s\n\n${lines.join('\n')}\n\n`);
process.stdout.write(`${notes.join('\n')}\n\n`);
process.stdout.write(
  [
    'committed steps lost: batches (one per step, plus the events after the last step) that a read-only connection of another',
    '  process saw committed during the run, missing afterwards — after the fault, and after the resume. For a cut -wal, only',
    '  those in the part of the WAL the cut left whole (commits ending before the cut) count: what the cut itself removed does not.',
    'silent value changes: trials where bytes of a seen batch changed, the resumed run replays to other metrics than the',
    '  uninterrupted run (timing aside), the read-only readers print other values, or a flipped byte changed values without error.',
    'bricked logs: the library cannot open/read the log after the fault (and after the resume where there is one);',
    '  for byte flips, only when the whole file no longer opens. untyped errors: errors that are not TrainledgerErrors.',
    '',
  ].join('\n'),
);
const reasons: string[] = [];
if (totalLost) reasons.push(`${totalLost} committed steps lost`);
if (totalSilent) reasons.push(`${totalSilent} silent value changes`);
if (totalBricked) reasons.push(`${totalBricked} bricked logs`);
if (totalUntyped) reasons.push(`${totalUntyped} trials with untyped errors`);
if (unrecovered) reasons.push(`${unrecovered} runs not recovered`);
if (noFault) reasons.push(`${noFault} trials where the fault did not happen`);
if (harness) reasons.push(`${harness} trials where the tool itself failed`);
process.stdout.write(
  `target: ${reasons.length === 0 ? 'PASS' : 'FAIL'} — 0 committed steps lost, 0 silent value changes, 0 bricked logs (also: every run recovered, no untyped error, every fault produced)${reasons.length ? `; got ${reasons.join(', ')}` : ''}\n`,
);
process.exitCode = reasons.length === 0 ? 0 : 1;
