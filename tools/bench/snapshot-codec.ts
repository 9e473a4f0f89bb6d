/**
 * What the snapshot cache's block codec (src/log/snapshot-block-codec.ts) makes of series of
 * different kinds: bytes per sample (values and iterations) against 12 raw (f64 + u32), encode
 * and decode time per million samples. Data is synthetic but shaped like a run's: a smooth
 * float32 curve, a noisy float32 loss, noisy float64 timings, float64 wall-clock step times, a
 * piecewise-constant learning rate; iterations consecutive, and every 20 steps (eval metrics).
 *
 *   node --import tsx tools/bench/snapshot-codec.ts
 */
import { decodeBlockIters, decodeBlockValues, encodeBlockIters, encodeBlockValues } from '../../src/log/snapshot-block-codec.js';
import { BLOCK } from '../../src/log/snapshot-blocks.js';

const BLOCKS = 250; // ~1M samples per kind
let seed = 1;
const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const kinds: Record<string, (it: number) => number> = {
  'smooth float32 curve': (it) => Math.fround(Math.sin(it * 0.001) + 1 / (1 + it)),
  'noisy float32 loss': (it) => Math.fround(Math.exp(-it / 1e5) * (1 + 0.2 * (random() - 0.5))),
  'noisy float64 timing': () => 0.05 + random() * 0.01,
  'float64 wall time': (it) => 1.7e9 + it * 0.031 + random() * 0.002,
  'step-decayed lr': (it) => 0.1 * 0.1 ** Math.floor(it / 300_000),
};

console.log(`| series (${(BLOCKS * BLOCK).toLocaleString('en-US')} samples) | bytes/sample, iterations every step | every 20 steps | vs raw 12 B | encode ms/M | decode ms/M |`);
console.log('|---|---|---|---|---|---|');
for (const [name, f] of Object.entries(kinds)) {
  const sizes = [1, 20].map((stride) => {
    let bytes = 0;
    let encodeMs = 0;
    let decodeMs = 0;
    for (let b = 0; b < BLOCKS; b++) {
      const iters = Uint32Array.from({ length: BLOCK }, (_, i) => (b * BLOCK + i) * stride);
      const values = Float64Array.from(iters, (it) => f(it));
      let t = performance.now();
      const v = encodeBlockValues(values);
      const i = encodeBlockIters(iters);
      encodeMs += performance.now() - t;
      bytes += v.length + i.length;
      t = performance.now();
      const back = decodeBlockValues(v);
      decodeBlockIters(i);
      decodeMs += performance.now() - t;
      if (back.length !== values.length) throw new Error('round trip lost samples');
    }
    return { perSample: bytes / (BLOCKS * BLOCK), encodeMs: (encodeMs * 1e6) / (BLOCKS * BLOCK), decodeMs: (decodeMs * 1e6) / (BLOCKS * BLOCK) };
  });
  const [every, sparse] = sizes as [(typeof sizes)[0], (typeof sizes)[0]];
  console.log(`| ${name} | ${every.perSample.toFixed(2)} | ${sparse.perSample.toFixed(2)} | ${(every.perSample / 12).toFixed(2)}× | ${every.encodeMs.toFixed(0)} | ${every.decodeMs.toFixed(0)} |`);
}
