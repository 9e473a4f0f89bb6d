/**
 * Every core: the demo's models trained by 1 and by N data-parallel replicas (worker threads,
 * `launch`), the global batch the same (N replicas take 64/N rows each), taking turns in one
 * process family. Prints steps/s of each and the speed-up, per model; with --accuracy, also the
 * test accuracy after --steps steps of each (the demo's 1,500 for the issue's comparison).
 *
 *   npm run bench:cores [-- --workers 2 --steps 200 --rounds 3 --models cnn,mlp]
 *   npm run bench:cores -- --accuracy --steps 1500 --rounds 1
 *
 * Rank 0 times its steps between two synchronize() calls after a warm-up, so the figure is the
 * group's pace (the slowest replica's), as a run's would be.
 */
import { launch } from '../../src/parallel/launch.js';

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : def;
};
const workers = Number(opt('workers', '2'));
const accuracy = argv.includes('--accuracy');
const steps = Number(opt('steps', accuracy ? '1500' : '200'));
const rounds = Number(opt('rounds', accuracy ? '1' : '3'));
const models = opt('models', 'cnn,mlp').split(',') as Array<'cnn' | 'mlp'>;
const warmup = accuracy ? 0 : 20;
console.log(`bench:cores: ${workers} replicas vs 1, global batch 64, ${steps} timed steps after ${warmup} warm-up, ${rounds} round(s), taking turns`);
for (const model of models) {
  const one: number[] = [];
  const many: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const worldSize of [1, workers]) {
      const res = await launch<{ stepsPerSecond: number; accuracy: number | null }>({ module: new URL('./cores-replica.ts', import.meta.url).href, exportName: 'replica', args: { model, steps, warmup, accuracy } }, { worldSize });
      (worldSize === 1 ? one : many).push(res.stepsPerSecond);
      console.log(`  ${model}, ${worldSize} replica(s), round ${r + 1}: ${res.stepsPerSecond.toFixed(1)} steps/s${res.accuracy === null ? '' : `, test accuracy ${(res.accuracy * 100).toFixed(2)}%`}`);
    }
  }
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  console.log(`${model}: 1 replica ${median(one).toFixed(1)} steps/s, ${workers} replicas ${median(many).toFixed(1)} steps/s: speed-up ${(median(many) / median(one)).toFixed(2)}× (medians; target ≥ 1.8× for the cnn)`);
}
