import type { GroupComm } from '../../src/parallel/group-comm.js';

/** A value each rank contributes at index i: different per rank, not round, some negative. */
export function contribution(rank: number, i: number): number {
  return Math.fround(Math.sin(rank * 7.1 + i * 0.37) * 1000 + rank / 3);
}

/** Every collective once; rank 0 returns what every rank got, to compare across ranks. */
export function collectives(args: { length: number }, comm: GroupComm): unknown {
  const data = Float32Array.from({ length: args.length }, (_, i) => contribution(comm.rank, i));
  const sum = Array.from(comm.allReduce(Float32Array.from(data), 'sum'));
  const mean = Array.from(comm.allReduce(Float32Array.from(data), 'mean'));
  const dict = comm.reduceDict({ b: comm.rank, a: comm.rank * 2 + 1, nan: comm.rank === 1 ? NaN : 0 });
  const gathered = comm.gather({ rank: comm.rank, inf: -Infinity });
  const everyone = comm.allGather({ sum, mean, dict, gatheredLength: gathered.length });
  return { everyone, gathered };
}

/** Each rank sleeps rank × 60 ms, then synchronizes: records when it arrived and when it left. */
export function arrivals(_args: unknown, comm: GroupComm): unknown {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, comm.rank * 60);
  const arrived = performance.timeOrigin + performance.now();
  comm.synchronize();
  const left = performance.timeOrigin + performance.now();
  return comm.allGather({ arrived, left });
}

/** Rank 1 fails before the collective the others wait in. */
export function rankOneThrows(_args: unknown, comm: GroupComm): void {
  if (comm.rank === 1) throw new Error('boom at step 3');
  comm.synchronize();
}

/** Ranks reduce arrays of different lengths. */
export function mismatchedLengths(_args: unknown, comm: GroupComm): void {
  comm.allReduce(new Float32Array(4 + comm.rank));
}

/** Rank 1 returns without the synchronize rank 0 waits in. */
export function rankOneLeaves(_args: unknown, comm: GroupComm): void {
  if (comm.rank !== 1) comm.synchronize();
}
