import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { tf } from '../tf-setup.js';
import { runCli } from '../../src/cli/main.js';
import { SimpleTrainer } from '../../src/engine/simple-trainer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { PeriodicCheckpointer } from '../../src/hooks/periodic-checkpointer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';

/** Runs the CLI in-process; what it printed, by stream. */
export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/**
 * Hashes of a log and its write-ahead log, to see that nothing wrote to them (a reader may
 * create an empty -wal and the -shm index: that is SQLite's, not a write).
 */
export const hashLog = (path: string): string =>
  [path, `${path}-wal`].filter((p) => existsSync(p) && statSync(p).size > 0).map((p) => createHash('sha256').update(readFileSync(p)).digest('hex')).join();

export interface SmallRunOptions {
  readonly name?: string;
  readonly steps: number;
  /** Where the run continues from, when resuming (see `resumeFrom`). */
  readonly startIter?: number;
  /** metrics.json of the live run (written every `period` iterations). */
  readonly json?: string;
  readonly period?: number;
  /** A step whose afterStep throws: the run fails there. */
  readonly failAt?: number;
  /** Checkpoints every `checkpointPeriod` iterations into this folder; with `resume`, continue from them. */
  readonly checkpoints?: string;
  readonly checkpointPeriod?: number;
  readonly resume?: boolean;
  /** Milliseconds each step spins (for runs another reader follows). */
  readonly stepMs?: number;
  /** The run's hyper-parameters (`TrainerOptions.config`). */
  readonly config?: unknown;
}

/** A tiny real training run (one scalar weight) recorded in the log at `path`. */
export async function smallRun(path: string, o: SmallRunOptions): Promise<void> {
  // Named after the run: a resumed run loads its checkpoint by variable name.
  const w = tf.variable(tf.scalar(0.3), true, `w-${o.name ?? 'small'}`);
  function* data() {
    for (let i = 0; ; i++) yield i;
  }
  const trainer = new SimpleTrainer<number>({ loss: (i) => w.sub(i % 5).square().mean() as tf.Scalar, variables: [w] }, data(), tf.train.sgd(0.05), { log: path, runName: o.name ?? 'small', config: o.config });
  trainer.register(
    new PeriodicWriter([new JSONWriter(o.json ?? join(path, '..', `${o.name ?? 'small'}-metrics.json`))], o.period ?? 5),
    new CallbackHook({
      afterStep: (t) => {
        if (o.stepMs) for (const end = performance.now() + o.stepMs; performance.now() < end; );
        if (t.iter === o.failAt) throw new Error('simulated failure');
      },
    }),
  );
  if (o.checkpoints) trainer.register(new PeriodicCheckpointer(o.checkpoints, o.checkpointPeriod ?? 5));
  try {
    const start = o.resume && o.checkpoints ? await trainer.resumeOrLoad(o.checkpoints) : (o.startIter ?? 0);
    await trainer.train(start, o.steps);
  } finally {
    w.dispose();
  }
}
