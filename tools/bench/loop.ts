/**
 * Per-step overhead of the trainer on a no-op 1-weight model (loss = w², cpu backend), in one
 * process:
 *   (a) a hand-written tfjs loop: tidy(variableGrads) + applyGradients + one loss read per step
 *       (the trainer also reads the loss every step at gatherMetricPeriod 1)
 *   (b) SimpleTrainer, no hooks, no log
 *   (c) SimpleTrainer + IterationTimer + LRScheduler + PeriodicWriter(JSONWriter, 20) + the
 *       durable SQLite log of every scalar (durability 'step'); as by default, the JSON writer
 *       runs on the log's commit thread (`--writer-thread main` keeps it on the training thread)
 * and the overhead (c − a) per step. Target: ≤ 10 µs.
 *
 * How a figure is made. A step is short and this machine is shared: its speed drifts over
 * seconds by more than the overheads measured. So the baseline runs *interleaved* with the
 * trainer, in the same process and the same seconds: while (b) or (c) trains, a hook pauses it
 * every WINDOW steps and runs WINDOW steps of (a) (its own variable and optimizer), timed
 * apart. Each trainer window is paired with the mean of the (a) windows either side of it, and
 * the overhead is the median over pairs of (trainer window − that mean), per step. A window
 * whose two (a) windows differ by more than 10% is left out (and counted): the machine changed
 * speed across it, so it measures the change rather than the trainer. Every window starts
 * right after a forced minor GC (hence `--expose-gc`), so no scavenge falls inside one: the time
 * of GC is left out of both loops, and the heap each allocates per step is printed beside, to
 * show they pay alike for it (the trainer allocates slightly less). Windows before step
 * STEPS/5 are dropped (JIT warm-up), and in (c) those before the log's commit thread is up (its
 * start overlaps the first steps). The µs/step printed are median windows. (CPU-time counters
 * are not printed: on this kernel they advance in ticks coarser than a window.)
 *
 *   npm run bench:loop [-- --steps 20000 --repeats 3 --window 250 --breakdown --writer-thread log|main]
 * --breakdown also trains (b) with each part of (c) alone, to show where (c − b) goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { IterationTimer } from '../../src/hooks/iteration-timer.js';
import { LRScheduler } from '../../src/hooks/lr-scheduler.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { cosineLR } from '../../src/schedules/lr-schedule.js';
import { memoryLogger } from '../../src/util/logger.js';
import { bootstrapInterval, median } from './measure.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const STEPS = arg('steps', 20000);
const REPEATS = arg('repeats', 3);
const WINDOW = arg('window', 250);
/** Largest relative difference between the (a) windows either side of a kept pair. */
const STABLE = 0.1;
const FROM = Math.ceil(STEPS / 5 / WINDOW) * WINDOW;
const BREAKDOWN = process.argv.includes('--breakdown');
const WRITER_THREAD = process.argv.includes('--writer-thread') ? (process.argv[process.argv.indexOf('--writer-thread') + 1] as 'log' | 'main') : 'log';

// Every timed window starts right after a minor GC, so a scavenge falls in none: otherwise it
// lands in some windows and not others and turns the paired differences into a mixture. GC time
// is left out of both loops; the heap each allocates per step is printed, to show they pay alike.
const gc = (globalThis as { gc?: (options: { readonly type: 'minor' | 'major' }) => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc (npm run bench:loop does)');
const minorGc = (): void => gc({ type: 'minor' });
const heapUsed = (): number => process.memoryUsage().heapUsed;
const gcStarts: number[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcStarts.push(e.startTime);
});
gcObserver.observe({ entryTypes: ['gc'] });

tf.env().set('PROD', true);
await tf.setBackend('cpu');
const dir = mkdtempSync(join(tmpdir(), 'bench-loop-'));

function* nothing(): Generator<null> {
  for (;;) yield null;
}

/** The hand-written loop (a), on its own variable and optimizer. */
const hw = tf.variable(tf.scalar(1));
const hopt = tf.train.sgd(1e-6);
function handSteps(n: number): void {
  for (let i = 0; i < n; i++) {
    const { value, grads } = tf.tidy(() => tf.variableGrads(() => hw.square() as tf.Scalar, [hw]));
    hopt.applyGradients(grads);
    value.dataSync();
    value.dispose();
    tf.dispose(grads);
  }
}

/** Paired windows of trainer runs: µs per step of (a) and of the trainer. */
interface Pairs {
  readonly a: number[];
  readonly t: number[];
  /** Windows left out: the machine changed speed across them. */
  readonly dropped: { n: number };
  /** Heap bytes allocated per step, per window (a window holds no scavenge: see minorGc). */
  readonly allocA: number[];
  readonly allocT: number[];
  /** [start, end) of every timed window, to find scavenges that fell inside one anyway. */
  readonly spansA: Array<readonly [number, number]>;
  readonly spansT: Array<readonly [number, number]>;
}

type Part = 'log' | 'timer' | 'lr' | 'writer';
const ALL: readonly Part[] = ['log', 'timer', 'lr', 'writer'];

async function paired(parts: readonly Part[], tag: string, into: Pairs): Promise<void> {
  const w = tf.variable(tf.scalar(1));
  const opt = tf.train.sgd(1e-6);
  const t = new SimpleTrainer<null>({ loss: () => w.square() as tf.Scalar, variables: [w] }, nothing(), opt, {
    disposeBatches: false,
    log: parts.includes('log') ? join(dir, `${tag}.sqlite`) : null,
  });
  t.register(
    parts.includes('timer') ? new IterationTimer(3, { logger: memoryLogger() }) : null,
    parts.includes('lr') ? new LRScheduler(cosineLR(0.001, STEPS)) : null,
    parts.includes('writer') ? new PeriodicWriter([new JSONWriter(join(dir, `${tag}.json`))], 20, { thread: WRITER_THREAD }) : null,
  );
  let ready = true;
  let open: { readonly t: number; readonly a: number; readonly heap: number } | null = null;
  const boundary = (iter: number): void => {
    if (iter < FROM || iter % WINDOW !== 0 || !ready) return;
    const now = performance.now();
    if (open !== null) {
      into.allocT.push((heapUsed() - open.heap) / WINDOW);
      into.spansT.push([open.t, now]);
    }
    minorGc();
    const h0 = heapUsed();
    const a0 = performance.now();
    handSteps(WINDOW);
    const a1 = performance.now();
    const a = ((a1 - a0) * 1000) / WINDOW;
    into.allocA.push((heapUsed() - h0) / WINDOW);
    into.spansA.push([a0, a1]);
    if (open !== null) {
      // A window whose (a) windows either side ran at different speeds straddles a change of
      // the machine's speed: it measures the change, not the trainer.
      if (Math.abs(open.a - a) <= STABLE * Math.min(open.a, a)) {
        into.a.push((open.a + a) / 2);
        into.t.push(((now - open.t) * 1000) / WINDOW);
      } else {
        into.dropped.n++;
      }
    }
    if (iter >= STEPS) {
      open = null;
      return;
    }
    minorGc();
    const heap = heapUsed();
    open = { t: performance.now(), a, heap };
  };
  // Registered last: the window covers the other hooks' work of every step in it.
  t.register(
    new CallbackHook({
      beforeTrain: (tr) => {
        const writer = tr.appender;
        if (writer !== null) {
          ready = false;
          void writer.ready().then(() => (ready = true));
        }
      },
      beforeStep: (tr) => boundary(tr.iter),
      afterTrain: () => boundary(STEPS),
    }),
  );
  await t.train(0, STEPS);
  t.dispose();
  w.dispose();
  opt.dispose();
}

const empty = (): Pairs => ({ a: [], t: [], dropped: { n: 0 }, allocA: [], allocT: [], spansA: [], spansT: [] });
const b = empty();
const c = empty();
const alone: Record<Part, Pairs> = { log: empty(), timer: empty(), lr: empty(), writer: empty() };
// Warm-up: JIT, kernel registration, the first SQLite file.
await paired(ALL, "warm", empty());
for (let r = 0; r < REPEATS; r++) {
  await paired([], `b${r}`, b);
  await paired(ALL, `c${r}`, c);
  if (BREAKDOWN) for (const p of ALL) await paired([p], `${p}${r}`, alone[p]);
}
rmSync(dir, { recursive: true, force: true });
// GC entries arrive through the event loop.
await new Promise((resolve) => setImmediate(resolve));
gcObserver.disconnect();

const diffs = (x: Pairs): number[] => x.t.map((t, i) => t - x.a[i]!);
const over = (x: Pairs): number => median(diffs(x));
/** Bootstrap 95% interval of the median overhead: how far it could move by chance alone. */
const overCi = (x: Pairs): string => {
  const [lo, hi] = bootstrapInterval([diffs(x)], ([d]) => median(d!));
  return `95% interval ${lo.toFixed(2)}–${hi.toFixed(2)}`;
};
const aAll = [...b.a, ...c.a];
console.log(
  `no-op 1-weight model, cpu backend, ${STEPS} steps × ${REPEATS} repeats; (a) interleaved with the trainer in ${WINDOW}-step windows from step ${FROM}; medians over windows; tfjs ${tf.version.tfjs}, node ${process.version}, load ${loadavg()[0]!.toFixed(2)}`,
);
console.log(`(a) hand-written tfjs loop                   ${median(aAll).toFixed(2).padStart(7)} µs/step   (${aAll.length} pairs kept; ${b.dropped.n + c.dropped.n} left out, the machine's speed changing across them)`);
console.log(`(b) SimpleTrainer, no hooks                  ${median(b.t).toFixed(2).padStart(7)} µs/step   b − a = ${over(b).toFixed(2)} µs (${overCi(b)})`);
console.log(`(c) + timer, LR schedule, JSON writer (${WRITER_THREAD} thread), log ${median(c.t).toFixed(2).padStart(7)} µs/step   c − a = ${over(c).toFixed(2)} µs (target ≤ 10; ${overCi(c)})`);
if (BREAKDOWN) {
  for (const p of ALL) {
    const x = alone[p];
    console.log(`    (b) + ${p.padEnd(6)} alone                  ${median(x.t).toFixed(2).padStart(7)} µs/step   − a = ${over(x).toFixed(2)} µs (− (b − a) = ${(over(x) - over(b)).toFixed(2)})`);
  }
}
// The machine switches between two speeds and overheads in µs scale with it: split the pairs by
// the speed of their (a).
const SPLIT = 33;
const byMode = (x: Pairs, fast: boolean): string => {
  const d = diffs(x).filter((_, i) => (x.a[i]! < SPLIT) === fast);
  return d.length === 0 ? 'n/a' : `${median(d).toFixed(2)} µs (${d.length} pairs)`;
};
console.log(`by the machine's speed: pairs whose (a) ran < ${SPLIT} µs/step: b − a ${byMode(b, true)}, c − a ${byMode(c, true)}; ≥ ${SPLIT}: b − a ${byMode(b, false)}, c − a ${byMode(c, false)}`);
console.log(`ratios (median of paired windows): b/a ${median(b.t.map((t, i) => t / b.a[i]!)).toFixed(3)}, c/a ${median(c.t.map((t, i) => t / c.a[i]!)).toFixed(3)}`);
const inside = (spans: ReadonlyArray<readonly [number, number]>): number => gcStarts.filter((g) => spans.some(([s, e]) => g >= s && g < e)).length;
const kb = (xs: readonly number[]): string => (median(xs) / 1024).toFixed(2);
console.log(
  `heap allocated per step (median window): (a) ${kb([...b.allocA, ...c.allocA])} KB, (b) ${kb(b.allocT)} KB, (c) ${kb(c.allocT)} KB; GCs inside timed windows (each starts after a forced minor GC): (a) ${inside([...b.spansA, ...c.spansA])}, (b) ${inside(b.spansT)}, (c) ${inside(c.spansT)}`,
);
