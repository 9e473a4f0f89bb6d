/**
 * Benchmark of the metric log: ingest, the training-thread cost of a put, replay, state at an
 * iteration of a long run, and the memory a history sample costs. Prints figures measured in
 * this run only; nothing here asserts a time.
 *
 *   node --expose-gc --import tsx tools/bench/log.ts [--quick]
 *
 * Every timed figure is the median of several repeats (the machine may be shared), and the
 * spread (min–max) is printed beside it. Definitions are next to each measurement below.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';
import { median, threadTimes } from './measure.js';
import { SnapshotCache } from '../../src/log/snapshot-cache.js';
import { EventStorage } from '../../src/storage/event-storage.js';

const quick = process.argv.includes('--quick');
/** Scalars put per step, as a small detectron2 loop (total_loss, two loss terms, lr). */
const PER_STEP = 4;
const NAMES = ['total_loss', 'loss_cls', 'loss_box_reg', 'lr'] as const;
const HINTS = [true, true, true, false] as const;
/** ~5 MB of batches: fits the default 8 MiB hand-off ring (see section 1). */
const PUT_STEPS = 50_000;
const PUT_REPEATS = quick ? 5 : 9;
/** Unmeasured repeats first (JIT warm-up), in the put-cost loops. */
const WARMUP = 2;
const INGEST_STEPS = 250_000;
const INGEST_REPEATS = quick ? 3 : 5;
const LONG_STEPS = quick ? 100_000 : 1_000_000;
const REPLAY_REPEATS = quick ? 3 : 5;
const MEMORY_SAMPLES = quick ? 1_000_000 : 5_000_000;
const AT_REPEATS = 5;

const dir = mkdtempSync(join(tmpdir(), 'trainledger-bench-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function spread(xs: readonly number[], digits = 0): string {
  return `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) fail('run with node --expose-gc (npm run bench:log does)');
  // Twice: the first pass may only queue finalizers that free array buffers.
  g();
  g();
}

/** A deterministic loss-like value: puts cost the same whatever the number, but keep it plausible. */
function valueOf(step: number, k: number): number {
  return k === 3 ? 0.02 : 1 / (1 + step * 1e-4) + k * 0.01;
}

/**
 * The training loop every measurement below drives: `steps` steps of PER_STEP putScalar each,
 * through the real EventStorage facade. Returns the ms it took on this thread.
 */
function trainLoop(storage: EventStorage, steps: number): number {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    for (let k = 0; k < PER_STEP; k++) storage.putScalar(NAMES[k]!, valueOf(i, k), HINTS[k]!);
    storage.step(1_700_000_000 + i);
  }
  return performance.now() - t0;
}

/** The figures that have a target, for the summary at the end. */
const headline: Array<{ what: string; figure: string; target: string; met: boolean }> = [];
function report(what: string, figure: string, target?: { readonly text: string; readonly met: boolean }): void {
  if (target) headline.push({ what, figure, target: target.text, met: target.met });
  console.log(`  ${what}: ${figure}${target ? `   [target ${target.text}]` : ''}`);
}

/** Stops the benchmark: a measurement could not be made as defined. */
function fail(message: string): never {
  console.error(`bench:log: ${message}`);
  process.exit(1);
}

console.log(
  `trainledger log benchmark (node ${process.version}, ${quick ? 'quick' : 'full'} sizes, ${PER_STEP} scalars per step); load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} on ${availableParallelism()} CPUs`,
);

// ── 1. The training-thread cost of a put, and ingest ────────────────────────────────────────
// (a) ns per putScalar: one run, as in training: a LogAppender (default 'step' durability: WAL,
//     synchronous NORMAL) whose commit thread is started once, and an EventStorage with it as
//     sink. Each repeat times, on the training thread, a loop of PUT_STEPS steps of PER_STEP
//     puts (the steps, the encoding, and handing each step's batch to the commit thread
//     included), divided by the puts. Before each repeat `await writer.flush()` empties the
//     hand-off ring, and PUT_STEPS steps (~5 MB of batches) fit in its default 8 MiB, so the
//     loop never waits for the commit thread: the figure is what a put costs the training
//     thread when the writer keeps up, as in real training where a step takes milliseconds.
//     (Flat out, the loop is paced by the commit thread instead: see (b).) The commit thread
//     commits concurrently, on the other core. WARMUP repeats run first, unmeasured (the JIT
//     compiles the code in the first ones: this is the steady state of a run). Printed: wall
//     time, and the thread's CPU time (Linux schedstat), which other processes taking the
//     cores do not inflate.
// (b) scalars/s ingested: INGEST_STEPS steps (1M scalars) through the same path, puts divided
//     by the time from the first put until `await writer.flush()` resolves, i.e. until the
//     commit thread has committed every batch to SQLite. The WAL checkpoint (SQLite copying the
//     WAL into the database file, disk-bound) is left for when the commit thread is idle, here
//     the close() that follows, whose time is printed separately.
// Each: median of its repeats (min–max). For reference, the put loop without a sink.
{
  console.log(`\n1. put cost: ${fmt(PUT_STEPS)} steps × ${PER_STEP} scalars, ${PUT_REPEATS} repeats; ingest: ${fmt(INGEST_STEPS)} steps × ${PER_STEP}, ${INGEST_REPEATS} repeats; median (min–max)`);
  const log = LogFile.open(join(dir, 'put.sqlite'));
  const writer = log.createRun({ name: 'put' });
  const storage = new EventStorage({ sink: writer });
  const wallPut: number[] = [];
  const cpuPut: number[] = [];
  const waitShare: number[] = [];
  // Repeats -WARMUP..-1 are not counted: the JIT compiles the loop's code during the first ones,
  // and a training run spends all but its first second in the compiled code.
  for (let r = -WARMUP; r < PUT_REPEATS; r++) {
    await writer.flush(); // the ring starts empty, so the loop below never waits for room
    gc();
    const c0 = threadTimes();
    const ms = trainLoop(storage, PUT_STEPS);
    const c1 = threadTimes();
    if (r < 0) continue;
    const puts = PUT_STEPS * PER_STEP;
    wallPut.push((ms * 1e6) / puts);
    if (c0 && c1) {
      cpuPut.push((c1.runNs - c0.runNs) / puts);
      waitShare.push((c1.waitNs - c0.waitNs) / (ms * 1e6));
    }
  }
  await writer.close();
  log.close();

  const rate: number[] = [];
  const flatPut: number[] = [];
  const closeMs: number[] = [];
  const diskPerScalar: number[] = [];
  for (let r = 0; r < INGEST_REPEATS; r++) {
    const path = join(dir, `ingest-${r}.sqlite`);
    const ingestLog = LogFile.open(path);
    const writer = ingestLog.createRun({ name: 'ingest' });
    const storage = new EventStorage({ sink: writer, maxLength: INGEST_STEPS });
    gc();
    const t0 = performance.now();
    const loopMs = trainLoop(storage, INGEST_STEPS);
    await writer.flush();
    const totalMs = performance.now() - t0;
    const c0 = performance.now();
    await writer.close();
    closeMs.push(performance.now() - c0);
    const puts = INGEST_STEPS * PER_STEP;
    rate.push(puts / (totalMs / 1000));
    flatPut.push((loopMs * 1e6) / puts);
    ingestLog.database.pragma('wal_checkpoint(TRUNCATE)');
    ingestLog.close();
    diskPerScalar.push(statSync(path).size / puts);
    rmSync(path, { force: true });
  }
  const bare: number[] = [];
  for (let r = -WARMUP; r < PUT_REPEATS; r++) {
    const storage = new EventStorage({ maxLength: PUT_STEPS });
    gc();
    const ms = trainLoop(storage, PUT_STEPS);
    if (r >= 0) bare.push((ms * 1e6) / (PUT_STEPS * PER_STEP));
  }
  report('ns per putScalar on the training thread, log attached (wall)', `${fmt(median(wallPut), 1)} (${spread(wallPut, 1)})`, { text: '≤ 300', met: median(wallPut) <= 300 });
  if (cpuPut.length > 0) {
    report('ns per putScalar, the training thread\'s CPU time', `${fmt(median(cpuPut), 1)} (${spread(cpuPut, 1)}); the thread waited for a core ${fmt(100 * median(waitShare))}% of the loop`, {
      text: '≤ 300',
      met: median(cpuPut) <= 300,
    });
  }
  report(`  ns per step of ${PER_STEP} puts (wall)`, fmt(median(wallPut) * PER_STEP));
  report('  ns per putScalar without a log (in-memory only, wall)', `${fmt(median(bare), 1)} (${spread(bare, 1)})`);
  report('scalars/s ingested (first put → all committed)', `${fmt(median(rate))} (${spread(rate)})`, { text: '≥ 1,000,000', met: median(rate) >= 1e6 });
  report('  = steps (log rows) committed per second', fmt(median(rate) / PER_STEP));
  report('  ns per putScalar in that flat-out loop (paced by the commit thread)', `${fmt(median(flatPut), 1)} (${spread(flatPut, 1)})`);
  report('  then close(): the WAL checkpoint left to the end, thread exit (ms)', `${fmt(median(closeMs))} (${spread(closeMs)})`);
  report('  bytes on disk per scalar (after checkpoint)', fmt(median(diskPerScalar), 1));
}

// ── 2. Memory per history sample ────────────────────────────────────────────────────────────
// An EventStorage without a sink receives MEMORY_SAMPLES scalar samples (PER_STEP metrics,
// maxLength large enough that nothing is evicted) plus one step-time sample per step. Measured:
// heapUsed + arrayBuffers after a full GC, with the storage (and its state) alive, minus the same
// before it was created; divided by every sample the histories retain (scalars and step times).
{
  const steps = MEMORY_SAMPLES / PER_STEP;
  console.log(`\n2. memory: ${fmt(MEMORY_SAMPLES)} scalar samples + ${fmt(steps)} step times`);
  gc();
  const before = process.memoryUsage();
  const storage = new EventStorage({ maxLength: steps });
  trainLoop(storage, steps);
  const state = storage.state;
  gc();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  let samples = state.stepTimes.length;
  for (const h of state.metrics.histories) samples += h.length;
  report('bytes of memory per history sample', `${fmt(bytes / samples, 2)} (${fmt(bytes / 2 ** 20, 1)} MiB / ${fmt(samples)} samples)`, { text: '≤ 16', met: bytes / samples <= 16 });
}

// ── 3. Replay and state at an iteration of a long run ───────────────────────────────────────
// A LONG_STEPS-step run (PER_STEP scalars a step) is written once through EventStorage +
// LogAppender (its write rate is printed: ingest at scale). Then:
// - replay events/s: replayRun over the whole run without a cache, events (scalars + steps)
//   folded divided by its time; median of REPLAY_REPEATS.
// - state at iteration N, cold: the first replayRun(untilIter: N, cache) with an empty snapshot
//   cache, for the last iteration: it replays from the start and fills the cache on the way.
// - state at iteration N, warm: once the cache is built, what a new process asking for N does:
//   SnapshotCache.open + replayRun(untilIter: N, cache) (a fresh cache object each time, so
//   nothing is kept in memory between repeats; the OS page cache is warm). Several N, on and
//   off snapshot boundaries; each N the median of AT_REPEATS; the worst N against the target.
// Wall time, and the thread's CPU time beside it.
{
  const path = join(dir, 'long.sqlite');
  console.log(`\n3. replay: a ${fmt(LONG_STEPS)}-step run (${fmt(LONG_STEPS * PER_STEP)} scalars), medians (min–max)`);
  {
    const log = LogFile.open(path);
    const writer = log.createRun({ name: 'long' });
    const storage = new EventStorage({ sink: writer });
    const t0 = performance.now();
    trainLoop(storage, LONG_STEPS);
    await writer.flush();
    const ms = performance.now() - t0;
    await writer.close();
    log.database.pragma('wal_checkpoint(TRUNCATE)');
    log.close();
    report(`written (first put → all committed)`, `${fmt(ms)} ms = ${fmt((LONG_STEPS * PER_STEP) / (ms / 1000))} scalars/s; log ${fmt(statSync(path).size / 2 ** 20)} MiB`);
  }
  const log = LogFile.open(path, { readonly: true });
  const runId = log.run('long').id;
  const events = LONG_STEPS * (PER_STEP + 1);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let r = 0; r < REPLAY_REPEATS; r++) {
    gc();
    const c0 = threadTimes();
    const t0 = performance.now();
    const { state } = replayRun(log, runId);
    const ms = performance.now() - t0;
    const c1 = threadTimes();
    if (state.iter !== LONG_STEPS) fail(`replay ended at iteration ${state.iter}`);
    rates.push(events / (ms / 1000));
    if (c0 && c1) cpuRates.push(events / ((c1.runNs - c0.runNs) / 1e9));
  }
  report('replay events/s (full run, no cache)', `${fmt(median(rates))} (${spread(rates)})`, { text: '≥ 2,000,000', met: median(rates) >= 2e6 });
  if (cpuRates.length > 0) report('  same, per second of the thread\'s CPU time', `${fmt(median(cpuRates))} (${spread(cpuRates)})`);

  const cachePath = join(dir, 'long.sqlite.snapshots');
  for (const f of [cachePath, `${cachePath}-wal`, `${cachePath}-shm`]) if (existsSync(f)) rmSync(f);
  const last = LONG_STEPS - 1;
  {
    const cache = SnapshotCache.open(log, { path: cachePath });
    if (cache === null) fail('cannot create the snapshot cache');
    gc();
    const t0 = performance.now();
    const cold = replayRun(log, runId, { untilIter: last, cache });
    const coldMs = performance.now() - t0;
    cache.close();
    if (!cold.reached) fail('cold replay did not reach the last iteration');
    report(`state at iteration ${fmt(last)}, cold (empty cache; fills it)`, `${fmt(coldMs)} ms; cache ${fmt(statSync(cachePath).size / 2 ** 20)} MiB`);
  }
  const targets = [Math.floor(LONG_STEPS / 4) + 1234, Math.floor(LONG_STEPS / 2), Math.floor((LONG_STEPS * 3) / 4) + 4999, last];
  let worst = 0;
  let worstCpu = 0;
  const perN: string[] = [];
  for (const n of targets) {
    const times: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < AT_REPEATS; r++) {
      gc();
      const c0 = threadTimes();
      const t0 = performance.now();
      const cache = SnapshotCache.open(log, { path: cachePath });
      const { state, reached } = replayRun(log, runId, { untilIter: n, cache });
      times.push(performance.now() - t0);
      const c1 = threadTimes();
      if (c0 && c1) cpu.push((c1.runNs - c0.runNs) / 1e6);
      cache?.close();
      if (!reached || state.iter !== n + 1) fail(`warm replay to ${n} ended at ${state.iter}`);
    }
    worst = Math.max(worst, median(times));
    if (cpu.length > 0) worstCpu = Math.max(worstCpu, median(cpu));
    perN.push(`${fmt(n)}: ${fmt(median(times), 1)}`);
  }
  report('state at iteration N, warm (cache built), ms per N', perN.join(', '));
  report(`state at iteration in a ${fmt(LONG_STEPS)}-step run, warm, worst N (ms)`, `${fmt(worst, 1)}${worstCpu > 0 ? ` (thread CPU ${fmt(worstCpu, 1)})` : ''}`, {
    text: '≤ 100 ms',
    met: worst <= 100,
  });
  log.close();
}

console.log('\nsummary (medians of this run; wall-clock figures include time other processes held the cores):');
for (const h of headline) console.log(`  ${h.met ? 'met    ' : 'NOT met'}  ${h.what}: ${h.figure}   [target ${h.target}]`);
console.log(`load average at the end (1/5/15 min): ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} CPUs`);
