/**
 * The training process tools/crash-test.ts and tools/fault-matrix.ts kill: a small MLP on MNIST
 * with checkpoints, a JSON writer and the durable log, resuming from its newest checkpoint when
 * started again.
 *
 *   node --import tsx tools/crash-child.ts <dir> <steps> [options]
 *
 * Options (all optional; without them this is the crash test's original child):
 *   --log PATH          the log (default <dir>/log.sqlite)
 *   --ckpt DIR          model checkpoints (default <dir>/ckpt)
 *   --wal-ckpt          checkpoint the WAL after every commit: the commit thread gets the pragma
 *                       `wal_autocheckpoint = 1`; if it has no effect (the WAL keeps growing: the
 *                       commit thread overrode it), this process checkpoints the WAL itself, from
 *                       its own connection, after every step, and says so on stdout
 *                       ("walckpt fallback")
 *   --durability D      step | fsync (default step)
 *   --bulk K            K more scalars per step (bulk/0..K-1, deterministic), to grow the log fast
 *
 * Stdout: "start <iter>", then "done"; a failed run prints "error <json>" (class, code, message,
 * causes) and exits with 3.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import Database from 'better-sqlite3';
import { SimpleTrainer } from '../src/engine/simple-trainer.js';
import { HookBase } from '../src/engine/hook-base.js';
import { loadMnist } from '../src/data/mnist.js';
import { ShuffledBatches, type Batch } from '../src/data/shuffled-batches.js';
import { IterationTimer } from '../src/hooks/iteration-timer.js';
import { LRScheduler } from '../src/hooks/lr-scheduler.js';
import { EvalHook } from '../src/hooks/eval-hook.js';
import { PeriodicCheckpointer } from '../src/hooks/periodic-checkpointer.js';
import { PeriodicWriter } from '../src/hooks/periodic-writer.js';
import { JSONWriter } from '../src/writers/json-writer.js';
import { cosineLR } from '../src/schedules/lr-schedule.js';
import { evaluateAccuracy } from '../src/demo/mnist-model.js';
import { memoryLogger } from '../src/util/logger.js';
import { LogFile } from '../src/log/log-file.js';
import type { LogAppenderOptions } from '../src/log/appender-options.js';
import { TrainledgerError } from '../src/errors/trainledger-error.js';

const argv = process.argv.slice(2);
const [dir, stepsText] = argv;
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const steps = Number(stepsText ?? 300);
const logPath = opt('log') ?? join(dir!, 'log.sqlite');
const ckptDir = opt('ckpt') ?? join(dir!, 'ckpt');
const walCkpt = argv.includes('--wal-ckpt');
const durability = (opt('durability') ?? 'step') as 'step' | 'fsync';
const bulk = Number(opt('bulk') ?? 0);

/** K scalars per step whose values depend on the iteration only (so a resume reproduces them). */
class BulkScalars extends HookBase {
  constructor(readonly count: number) {
    super();
  }
  override afterStep(): void {
    const storage = this.trainer.storage;
    const iter = this.trainer.iter;
    for (let i = 0; i < this.count; i++) storage.putScalar(`bulk/${i}`, Math.sin(iter * 0.37 + i * 1.3), false);
  }
}

/**
 * The fallback of --wal-ckpt: while the WAL file grows past what a few commits write (so the
 * commit thread's connection does not checkpoint after each commit: each checkpoint lets the
 * next commit start the WAL over), checkpoint it from here after every step. The WAL is only
 * stat()ed: opening and closing any file SQLite locks (the -shm, the database) would drop this
 * process's POSIX locks on it, and another process's reader would then reset the -shm under the
 * writer's mapping (SIGBUS).
 */
class WalCheckpointFallback extends HookBase {
  #db: Database.Database | null = null;
  #active = false;
  #count = 0;
  constructor(readonly path: string) {
    super();
  }
  #walBytes(): number {
    return statSync(`${this.path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  }
  override afterStep(): void {
    if (!this.#active && this.#walBytes() > 64 * (4096 + 24)) {
      this.#active = true;
      process.stdout.write('walckpt fallback\n');
    }
    if (!this.#active) return;
    try {
      this.#db ??= new Database(this.path, { fileMustExist: true });
      this.#db.pragma('busy_timeout = 1000');
      this.#db.pragma('wal_checkpoint(PASSIVE)');
      this.#count++;
    } catch {
      // Busy: the next step tries again.
    }
  }
  override afterTrain(): void {
    this.#db?.close();
    this.#db = null;
    if (this.#active) process.stdout.write(`walckpt fallback checkpoints ${this.#count}\n`);
  }
}

function describe(e: unknown): Record<string, unknown> {
  const causes: string[] = [];
  for (let c = (e as { cause?: unknown })?.cause; c !== undefined && causes.length < 5; c = (c as { cause?: unknown })?.cause) {
    causes.push(`${(c as Error)?.name ?? typeof c}${(c as { code?: string })?.code ? `(${(c as { code?: string }).code})` : ''}: ${(c as Error)?.message ?? String(c)}`);
  }
  return { name: (e as Error)?.constructor?.name ?? typeof e, typed: e instanceof TrainledgerError, code: (e as { code?: string })?.code ?? null, message: (e as Error)?.message ?? String(e), causes };
}

let log: LogFile | string = logPath;
if (walCkpt) {
  // The trainer passes only durability and projections to the LogAppender: give it a LogFile whose
  // writers get the pragma too.
  const file = LogFile.open(logPath);
  const withPragma = (o: LogAppenderOptions = {}): LogAppenderOptions => ({ ...o, pragmas: [...(o.pragmas ?? []), 'wal_autocheckpoint = 1'] });
  const createRun = file.createRun.bind(file);
  const appendToRun = file.appendToRun.bind(file);
  file.createRun = (run, o) => createRun(run, withPragma(o));
  file.appendToRun = (runId, o) => appendToRun(runId, withPragma(o));
  log = file;
}

try {
  tf.env().set('PROD', true);
  await tf.setBackend('cpu');
  const split = loadMnist({ seed: 11, trainSize: 2000, testSize: 300 });
  const init = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 32, activation: 'relu', kernelInitializer: init(1) }), tf.layers.dense({ units: 10, kernelInitializer: init(2) })] });
  const data = new ShuffledBatches({ images: split.train.images, labels: split.train.labels, batchSize: 32, seed: 3 });
  const loss = (b: Batch) => tf.losses.softmaxCrossEntropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor) as tf.Scalar;
  const trainer = new SimpleTrainer<Batch>({ loss, variables: model }, data, tf.train.adam(3e-3), { log, runName: 'crash', durability });
  trainer.register(
    new IterationTimer(3, { logger: memoryLogger() }),
    new LRScheduler(cosineLR(3e-3, steps)),
    new EvalHook(50, () => ({ test: { accuracy: evaluateAccuracy(model, split.test.images, split.test.labels) } })),
    new PeriodicCheckpointer(ckptDir, 20),
    new PeriodicWriter([new JSONWriter(join(dir!, 'metrics.json'))], 10),
  );
  if (bulk > 0) trainer.register(new BulkScalars(bulk));
  if (walCkpt) trainer.register(new WalCheckpointFallback(logPath));
  const start = await trainer.resumeOrLoad(ckptDir);
  process.stdout.write(`start ${start}\n`);
  if (start < steps) await trainer.train(start, steps);
  if (typeof log !== 'string') log.close();
  process.stdout.write('done\n');
} catch (e) {
  process.stdout.write(`error ${JSON.stringify(describe(e))}\n`);
  process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = 3;
}
