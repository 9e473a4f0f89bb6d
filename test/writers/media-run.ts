import { join } from 'node:path';
import { TrainerBase } from '../../src/engine/trainer-base.js';
import { PeriodicWriter } from '../../src/hooks/periodic-writer.js';
import { CallbackHook } from '../../src/hooks/callback-hook.js';
import { TensorBoardWriter } from '../../src/writers/tensorboard-writer.js';

export const MEDIA_CONFIG = { lr: 0.1, model: { depth: 2, name: 'mlp' }, steps: [10, 20], amp: false };

/** Puts a loss every step, a 2×3 RGB image every 3rd step and a histogram every 4th. */
export class MediaTrainer extends TrainerBase {
  runStep(): void {
    const i = this.iter;
    this.storage.putScalar('loss', 1 / (1 + i));
    if (i % 3 === 0) this.storage.putImage('sample', { height: 2, width: 3, channels: 3, data: Uint8Array.from({ length: 18 }, (_, k) => (k * 13 + i) % 256) });
    if (i % 4 === 0) this.storage.putHistogram('weights', [i, i + 1, i + 1, i + 3, -Infinity], 2);
  }
}

/** Trains 25 steps writing TensorBoard every 10 (on `thread`); returns the live file and the images held after each step. */
export async function mediaRun(dir: string, thread: 'log' | 'main'): Promise<{ file: string; held: number[] }> {
  const t = new MediaTrainer({ log: join(dir, 'log.sqlite'), runName: 'media', config: MEDIA_CONFIG });
  const held: number[] = [];
  t.register(
    new PeriodicWriter([new TensorBoardWriter(join(dir, 'live'), { fileName: 'events' })], 10, { thread }),
    new CallbackHook({
      afterStep: (tr) => {
        held.push(tr.state.storage.state.info.images.length + tr.state.storage.state.info.histograms.length);
      },
    }),
  );
  await t.train(0, 25);
  return { file: join(dir, 'live', 'events'), held };
}

