/**
 * One measured job of bench:scale, in its own process (so its peak RSS is its own):
 *   train DIR STEPS SCALARS [cache]
 *                             a trainer whose step puts SCALARS scalars, with the log and a
 *                             JSONWriter every 20 steps (as a real run), into DIR/run.sqlite;
 *                             with `cache`, filling the snapshot cache as it goes
 *   wide DIR NAMES STEPS      a run that puts NAMES distinct metric names each step
 *   replay LOG                replayRun of run 1 (no cache)
 */
import { join } from 'node:path';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { JSONWriter } from '../../src/writers/json-writer.js';
import { LogFile } from '../../src/log/log-file.js';
import { replayRun } from '../../src/log/replay.js';

const [mode, a, b, c, d] = process.argv.slice(2);

class PutOnly extends TrainerBase {
  constructor(
    options: ConstructorParameters<typeof TrainerBase>[0],
    readonly names: readonly string[],
  ) {
    super(options);
  }

  override runStep(): void {
    const it = this.iter;
    const names = this.names;
    // Values that vary like a run's do (no encoding gets them for free): the first 8 are losses,
    // float32 as tfjs computes them; the rest are doubles, as timings and schedules are.
    for (let k = 0; k < names.length; k++) {
      const v = Math.sin(it * 0.001 + k) + 1 / (1 + it);
      this.storage.putScalar(names[k]!, k < 8 ? Math.fround(v) : v, k < 8);
    }
  }
}

if (mode === 'train' || mode === 'wide') {
  const dir = a!;
  const wide = mode === 'wide';
  const count = Number(b);
  const steps = wide ? Number(c) : Number(b);
  const names = Array.from({ length: wide ? count : Number(c) }, (_, k) => (wide ? `class_${k}/AP` : `loss_${k}`));
  const t = new PutOnly({ log: join(dir, 'run.sqlite'), runName: mode, snapshotCache: d === 'cache' }, names);
  if (!wide) t.register(new PeriodicWriter([new JSONWriter(join(dir, 'live.json'))], 20));
  await t.train(0, steps);
} else if (mode === 'replay') {
  const log = LogFile.open(a!, { readonly: true });
  const { state } = replayRun(log, 1);
  if (state.metrics.names.length === 0) throw new Error('replayed nothing');
  log.close();
} else {
  throw new Error(`scale-child: unknown mode ${String(mode)}`);
}
