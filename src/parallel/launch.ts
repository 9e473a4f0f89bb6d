import { Worker } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors/trainledger-error.js';
import { CommAbortedError, RankFailedError } from './errors.js';
import { GroupComm } from './group-comm.js';
import { createSharedGroup, type SharedGroupInit } from './shared-group.js';

/** What to run on every rank: `module[exportName](args, comm)`, where `module` is a URL. */
export interface LaunchSpec {
  readonly module: string;
  readonly exportName: string;
  /** Structured-clonable: it is copied to each worker thread. */
  readonly args?: unknown;
}

export interface LaunchOptions {
  /** Ranks in all, this thread included (rank 0). */
  readonly worldSize: number;
  /** Bytes of each rank's exchange slot (the largest collective chunk). Default 4 MiB. */
  readonly slotBytes?: number;
  /** A collective waiting longer than this for the others fails with CommTimeoutError. Default 10 min. */
  readonly timeoutMs?: number;
}

/** @internal What a rank's worker thread is given. */
export interface RankWorkerData {
  readonly init: SharedGroupInit;
  readonly rank: number;
  readonly spec: LaunchSpec;
}

/** @internal How a rank ended, as its worker reports it. */
export type RankOutcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string; readonly code?: string; readonly name?: string };

const fromSource = import.meta.url.endsWith('.ts');
const workerUrl = new URL(`./rank-worker${fromSource ? '.ts' : '.js'}`, import.meta.url).href;
// Under tsx (running from source) the thread registers tsx's loader before loading the rank.
const bootstrap = `(async () => {
  ${fromSource ? `(await import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})).register();` : ''}
  await import(${JSON.stringify(workerUrl)});
})().catch((e) => { require('node:worker_threads').parentPort.postMessage({ ok: false, message: 'rank failed to start: ' + (e && e.message || e) }); });`;

/**
 * detectron2's `launch`, on the threads of one process: runs the function a spec names on
 * `worldSize` ranks — rank 0 on this thread, ranks 1… in worker threads — each with a
 * `GroupComm` of the group, and resolves with rank 0's result. A rank that throws aborts the
 * group (the others' collectives throw CommAbortedError) and `launch` rejects with
 * RankFailedError naming the first rank that failed on its own, not one that only saw the abort.
 *
 * @example
 * ```ts
 * // train.ts
 * export async function main(args: { steps: number }, comm: GroupComm) { ... }
 * const result = await launch({ module: new URL('./train.ts', import.meta.url).href, exportName: 'main', args: { steps: 100 } }, { worldSize: 2 });
 * ```
 */
export async function launch<R>(spec: LaunchSpec, options: LaunchOptions): Promise<R> {
  const { worldSize } = options;
  if (!Number.isInteger(worldSize) || worldSize < 1) throw new InvalidArgumentError(`worldSize must be a positive integer, got ${String(worldSize)}`);
  const init = createSharedGroup(worldSize, { slotBytes: options.slotBytes, timeoutMs: options.timeoutMs });
  const comm = new GroupComm(init, 0);
  const outcomes = Array.from({ length: worldSize - 1 }, (_, k) => runRank(init, k + 1, spec, comm));
  let result: R | undefined;
  let failure: unknown;
  try {
    const fn = ((await import(spec.module)) as Record<string, unknown>)[spec.exportName];
    if (typeof fn !== 'function') throw new InvalidArgumentError(`${spec.module} exports no function named ${spec.exportName}`);
    result = (await (fn as (args: unknown, comm: GroupComm) => unknown)(spec.args, comm)) as R;
  } catch (e) {
    comm.abort();
    failure = e;
  }
  const ended = await Promise.all(outcomes);
  // The cause, not an echo: a rank whose collective saw the abort is not why the group failed.
  const own = (o: RankOutcome): boolean => !o.ok && o.code !== 'ERR_COMM_ABORTED';
  if (failure !== undefined && !(failure instanceof CommAbortedError)) throw new RankFailedError(0, (failure as Error).message ?? String(failure), { cause: failure });
  const k = ended.findIndex(own);
  if (k >= 0) throw new RankFailedError(k + 1, (ended[k] as { message: string }).message);
  if (failure !== undefined) throw new RankFailedError(0, (failure as Error).message, { cause: failure });
  const other = ended.findIndex((o) => !o.ok);
  if (other >= 0) throw new RankFailedError(other + 1, (ended[other] as { message: string }).message);
  return result as R;
}

function runRank(init: SharedGroupInit, rank: number, spec: LaunchSpec, comm: GroupComm): Promise<RankOutcome> {
  const data: RankWorkerData = { init, rank, spec };
  const worker = new Worker(bootstrap, { eval: true, workerData: data });
  return new Promise((resolve) => {
    let outcome: RankOutcome | undefined;
    worker.on('message', (m: RankOutcome) => (outcome ??= m));
    worker.on('error', (e) => {
      comm.abort();
      outcome ??= { ok: false, message: e.message };
    });
    worker.on('exit', (code) => {
      if (outcome === undefined) comm.abort();
      resolve(outcome ?? { ok: false, message: `its thread exited (code ${code}) without reporting` });
    });
  });
}
