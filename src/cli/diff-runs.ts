import type { LogFile, BatchPage } from '../log/log-file.js';
import { visitRecords, type BatchVisitor } from '../log/batch-codec.js';
import { LogCorruptError } from '../log/errors.js';
import { replayRun } from '../log/replay.js';
import type { StorageState } from '../storage/storage-state.js';

/** Metrics `diff` leaves out unless asked (they differ between any two runs). */
export const TIMING = /^(time|data_time|rank_data_time|eta_seconds|memory\/)/;

export interface DiffResult {
  readonly first: { readonly iter: number; readonly name: string; readonly a: number; readonly b: number } | null;
  readonly metrics: number;
  readonly compared: number;
  readonly onlyIn: readonly string[];
  /** Metrics recorded (on the live timeline) by each run, in order of first appearance. */
  readonly namesA: readonly string[];
  readonly namesB: readonly string[];
}

export interface DiffOptions {
  /** Largest |a − b| still equal. Default 0. */
  readonly tolerance?: number;
  /** Also compare time, data_time, eta_seconds, memory/*. */
  readonly includeTiming?: boolean;
  /** Compare only these metrics (timing ones included). */
  readonly only?: readonly string[];
  /** Counts what the comparison held, for tests (see `DiffProbe`). */
  readonly probe?: DiffProbe;
}

/** What a streamed diff held at most, and what it read. */
export interface DiffProbe {
  /** Most samples waiting to be compared at any one time (both runs together). */
  peakWaiting: number;
  /** Batches read from each run. */
  batchesA: number;
  batchesB: number;
  /** Whether the runs were compared through replay (a metric's samples went back in iteration). */
  replayed: boolean;
}

/** A run's samples of one metric at one iteration, waiting for the other run's. */
interface Group {
  readonly iter: number;
  /** Run A: every value, in log order. Run B: only the last counts (a later one replaces it). */
  readonly values: number[];
}

/** One metric compared in both runs: a merge of their samples by iteration. */
interface Join {
  readonly name: string;
  /** Its place in the order metrics are reported in (ties at one iteration go to the earlier). */
  order: number;
  readonly a: Group[];
  readonly b: Group[];
  /** Highest iteration of this metric read from each run (-1: none yet). */
  topA: number;
  topB: number;
  /** Whether a run's samples are dropped, the other run's log not naming the metric at all. */
  lonelyA: boolean;
  lonelyB: boolean;
}

/** A run's samples of a metric went back in iteration: the streamed merge cannot be exact. */
class OutOfOrder extends Error {}

/** Iterations that had a comparison, as a sparse bitmap (a run's iterations may be far apart). */
class IterSet {
  readonly #blocks = new Map<number, Uint32Array>();
  size = 0;

  add(iter: number): void {
    const key = Math.floor(iter / 65536);
    let block = this.#blocks.get(key);
    if (block === undefined) this.#blocks.set(key, (block = new Uint32Array(2048)));
    const at = iter % 65536;
    const bit = 1 << (at & 31);
    if ((block[at >>> 5]! & bit) === 0) {
      block[at >>> 5] = block[at >>> 5]! | bit;
      this.size++;
    }
  }
}

/** A run's live timeline, a batch at a time, holding one page of batches. */
class RunStream {
  readonly #log: LogFile;
  readonly #runId: number;
  #names: string[];
  /** The run's metric names as first read (every name its log defined by then). */
  readonly initialNames: readonly string[];
  readonly #pages: Generator<BatchPage>;
  #page: BatchPage | null = null;
  #view: DataView | null = null;
  #at = 0;
  /** Iteration of the last step read, -1 before any. */
  stepIter = -1;
  done = false;
  batches = 0;

  constructor(log: LogFile, runId: number) {
    this.#log = log;
    this.#runId = runId;
    this.#names = log.names(runId);
    this.initialNames = this.#names.filter((n) => n !== undefined);
    const ranges = log.timeline(runId);
    this.#pages = (function* () {
      for (const r of ranges) yield* log.batchPages(runId, r.from, r.to);
    })();
  }

  /** The name of metric id `id`, reading the names again for one committed after we read them. */
  name(id: number): string {
    let name = this.#names[id];
    if (name === undefined) {
      this.#names = this.#log.names(this.#runId);
      name = this.#names[id];
      if (name === undefined) throw new LogCorruptError(`scalar refers to metric name id ${id}, which the log does not define`);
    }
    return name;
  }

  /** Visits the next batch's records; false at the end of the timeline. */
  next(visitor: BatchVisitor): boolean {
    while (this.#page === null || this.#at >= this.#page.count) {
      const r = this.#pages.next();
      if (r.done === true) {
        this.done = true;
        this.#page = null;
        return false;
      }
      this.#page = r.value;
      this.#view = new DataView(r.value.bytes.buffer, r.value.bytes.byteOffset, r.value.bytes.byteLength);
      this.#at = 0;
    }
    const p = this.#page;
    visitRecords(p.bytes, this.#view!, p.offsets[this.#at]!, p.offsets[this.#at + 1]!, visitor);
    this.#at++;
    this.batches++;
    return true;
  }
}

/**
 * The first iteration at which two runs diverge, walking both logs' live timelines in step and
 * comparing each metric's samples as soon as both runs are past their iteration: memory holds a
 * page of batches per run and the samples of the few iterations one run is ahead, never a run.
 * Same answer as `diffStates` of the two replayed states (metric by metric, at the iterations
 * both recorded; a run's last sample at an iteration is the one compared), but over every
 * sample, also those a state's history no longer keeps. A run whose samples of a metric go back
 * in iteration (put for an earlier iteration after a later one) is compared through replay.
 *
 * @example
 * ```ts
 * const r = diffRuns(logA, 1, logB, 1, { tolerance: 1e-6 });
 * r.first; // null when they agree
 * ```
 */
export function diffRuns(logA: LogFile, runA: number, logB: LogFile, runB: number, options: DiffOptions = {}): DiffResult {
  try {
    return streamDiff(logA, runA, logB, runB, options);
  } catch (e) {
    if (!(e instanceof OutOfOrder)) throw e;
    if (options.probe !== undefined) options.probe.replayed = true;
    const sa = replayRun(logA, runA).state;
    const sb = replayRun(logB, runB).state;
    return diffStates(sa, sb, options.tolerance ?? 0, options.includeTiming ?? false, options.only);
  }
}

function streamDiff(logA: LogFile, runA: number, logB: LogFile, runB: number, options: DiffOptions): DiffResult {
  const tolerance = options.tolerance ?? 0;
  const only = options.only;
  const onlySet = only === undefined ? null : new Set(only);
  const tracked = (name: string): boolean => (onlySet !== null ? onlySet.has(name) : options.includeTiming === true || !TIMING.test(name));
  const probe = options.probe;

  const joins = new Map<string, Join>();
  const namesA: string[] = [];
  const namesB: string[] = [];
  const iters = new IterSet();
  let first: DiffResult['first'] = null;
  let firstOrder = Infinity;
  let waiting = 0;

  const joinOf = (name: string): Join => {
    let j = joins.get(name);
    if (j === undefined) joins.set(name, (j = { name, order: Infinity, a: [], b: [], topA: -1, topB: -1, lonelyA: false, lonelyB: false }));
    return j;
  };

  const compare = (j: Join, ga: Group, gb: Group): void => {
    iters.add(ga.iter);
    const other = gb.values[gb.values.length - 1]!;
    if (first !== null && (ga.iter > first.iter || (ga.iter === first.iter && j.order >= firstOrder))) return;
    for (const v of ga.values) {
      if (Object.is(v, other) || Math.abs(v - other) <= tolerance) continue;
      first = { iter: ga.iter, name: j.name, a: v, b: other };
      firstOrder = j.order;
      return;
    }
  };

  /** Compares or drops what both runs are past; a group is whole once its run is past it. */
  const settle = (j: Join, doneA: boolean, doneB: boolean): void => {
    const { a, b } = j;
    for (;;) {
      const ga = a[0];
      const gb = b[0];
      // A run that went past an iteration without it (or ended) has nothing to compare it with.
      if (ga !== undefined && (gb !== undefined ? ga.iter < gb.iter : ga.iter < j.topB || doneB)) {
        a.shift();
        waiting -= ga.values.length;
        continue;
      }
      if (gb !== undefined && (ga !== undefined ? gb.iter < ga.iter : gb.iter < j.topA || doneA)) {
        b.shift();
        waiting -= gb.values.length;
        continue;
      }
      // Same iteration: compared once neither run can add to it.
      if (ga === undefined || gb === undefined || !(a.length > 1 || doneA) || !(b.length > 1 || doneB)) return;
      compare(j, ga, gb);
      a.shift();
      b.shift();
      waiting -= ga.values.length + gb.values.length;
    }
  };

  const side = (stream: RunStream, names: string[], isA: boolean, other: ReadonlySet<string>): BatchVisitor => {
    // Per name id: the join of a compared metric, null for one left out, undefined until seen.
    const byId: Array<Join | null | undefined> = [];
    return {
      scalar(id, _hint, iter, value) {
        let j = byId[id];
        if (j === undefined) {
          const name = stream.name(id);
          names.push(name);
          j = byId[id] = tracked(name) ? joinOf(name) : null;
          if (j !== null) {
            if (isA) j.order = onlySet !== null ? only!.indexOf(name) : names.length - 1;
            // Samples the other run was not there to match were dropped: only a replay is exact now.
            if (isA ? j.lonelyB : j.lonelyA) throw new OutOfOrder();
            // A metric the other run never named waits for nothing (its samples would pile up).
            if (!other.has(name)) {
              if (isA) j.lonelyA = true;
              else j.lonelyB = true;
            }
          }
        }
        if (j === null || (isA ? j.lonelyA : j.lonelyB)) return;
        const groups = isA ? j.a : j.b;
        const top = isA ? j.topA : j.topB;
        if (iter < top) throw new OutOfOrder();
        if (iter === top) {
          // More samples of the iteration being read (into its group, unless that was dropped).
          const last = groups[groups.length - 1];
          if (last !== undefined && last.iter === iter) {
            last.values.push(value);
            waiting++;
          }
          return;
        }
        groups.push({ iter, values: [value] });
        waiting++;
        if (isA) j.topA = iter;
        else j.topB = iter;
        if (probe !== undefined && waiting > probe.peakWaiting) probe.peakWaiting = waiting;
        settle(j, false, false);
      },
      step(iter) {
        stream.stepIter = iter;
      },
      json() {},
    };
  };

  const a = new RunStream(logA, runA);
  const b = new RunStream(logB, runB);
  const visitA = side(a, namesA, true, new Set(b.initialNames));
  const visitB = side(b, namesB, false, new Set(a.initialNames));
  // In step: the run behind reads its next batch.
  while (!a.done || !b.done) {
    if (!a.done && (b.done || a.stepIter <= b.stepIter)) a.next(visitA);
    else b.next(visitB);
  }
  if (probe !== undefined) {
    probe.batchesA = a.batches;
    probe.batchesB = b.batches;
  }
  for (const j of joins.values()) settle(j, true, true);

  const inA = new Set(namesA);
  const inB = new Set(namesB);
  let metrics = 0;
  const onlyIn: string[] = [];
  for (const name of new Set(only ?? [...namesA, ...namesB])) {
    if (!tracked(name)) continue;
    if (inA.has(name) && inB.has(name)) metrics++;
    else onlyIn.push(name);
  }
  return { first, metrics, compared: iters.size, onlyIn, namesA, namesB };
}

/**
 * Compares two states metric by metric at the iterations both recorded (what `diffRuns` does
 * over two logs without replaying them).
 *
 * @example
 * ```ts
 * diffStates(a, b, 1e-6, false).first; // null when they agree
 * ```
 */
export function diffStates(a: StorageState, b: StorageState, tolerance: number, includeTiming: boolean, only?: readonly string[]): DiffResult {
  let first: DiffResult['first'] = null;
  let metrics = 0;
  const iters = new Set<number>();
  const onlyIn: string[] = [];
  const names = new Set(only ?? [...a.metrics.names, ...b.metrics.names]);
  for (const name of names) {
    if (!includeTiming && only === undefined && TIMING.test(name)) continue;
    const ia = a.metrics.index.get(name);
    const ib = b.metrics.index.get(name);
    if (ia === undefined || ib === undefined) {
      onlyIn.push(name);
      continue;
    }
    metrics++;
    const vb = new Map(b.metrics.histories[ib]!.values().map(([v, it]) => [it, v]));
    for (const [va, it] of a.metrics.histories[ia]!.values()) {
      const other = vb.get(it);
      if (other === undefined) continue;
      iters.add(it);
      const same = Object.is(va, other) || Math.abs(va - other) <= tolerance;
      if (!same && (first === null || it < first.iter)) first = { iter: it, name, a: va, b: other };
    }
  }
  return { first, metrics, compared: iters.size, onlyIn, namesA: a.metrics.names, namesB: b.metrics.names };
}
