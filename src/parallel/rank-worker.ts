/**
 * The body of a launched rank above 0 (a worker thread): builds its GroupComm, runs the
 * launched function, and reports how it ended. A failure aborts the group first, so ranks
 * waiting for this one in a collective fail at once instead of waiting for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GroupComm } from './group-comm.js';
import type { RankWorkerData, RankOutcome } from './launch.js';

const data = workerData as RankWorkerData;
const comm = new GroupComm(data.init, data.rank);

function fail(e: unknown): void {
  comm.abort();
  const error = e as { message?: unknown; code?: unknown; name?: unknown };
  const outcome: RankOutcome = { ok: false, message: String(error?.message ?? e), code: typeof error?.code === 'string' ? error.code : undefined, name: typeof error?.name === 'string' ? error.name : undefined };
  parentPort?.postMessage(outcome);
}

process.on('uncaughtException', fail);
try {
  const fn = ((await import(data.spec.module)) as Record<string, unknown>)[data.spec.exportName];
  if (typeof fn !== 'function') throw new TypeError(`${data.spec.module} exports no function named ${data.spec.exportName}`);
  const value: unknown = await (fn as (args: unknown, comm: GroupComm) => unknown)(data.spec.args, comm);
  const outcome: RankOutcome = { ok: true, value };
  parentPort?.postMessage(outcome);
} catch (e) {
  fail(e);
}
