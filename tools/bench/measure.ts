/**
 * Measuring helpers shared by the benchmarks. These machines are shared and noisy: figures are
 * medians, and the training thread's own CPU time is read beside wall time, because another
 * process taking the core inflates wall time but not CPU time.
 */
import { readFileSync } from 'node:fs';
import { Mulberry32 } from '../../src/data/seeded-random.js';

/**
 * This thread's CPU time and time spent runnable but waiting for a core (ns), from Linux
 * schedstat; null elsewhere.
 */
export function threadTimes(): { runNs: number; waitNs: number } | null {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return { runNs: Number(run), waitNs: Number(wait) };
  } catch {
    return null;
  }
}

/** Median (mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * A percentile bootstrap interval (default 95%) of `statistic` over independent groups of
 * paired samples: each resample draws every group's pairs with replacement. It says how far a
 * median of these windows could move by chance alone, with the machine as noisy as it was.
 *
 * ```ts
 * bootstrapInterval([diffsB, diffsC], ([b, c]) => median(c!) - median(b!));
 * ```
 */
export function bootstrapInterval(groups: readonly (readonly number[])[], statistic: (resampled: readonly number[][]) => number, resamples = 2000, level = 0.95): readonly [number, number] {
  const rng = new Mulberry32(12345);
  const stats: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const drawn = groups.map((g) => Array.from({ length: g.length }, () => g[Math.floor(rng.next() * g.length)]!));
    stats.push(statistic(drawn));
  }
  stats.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  return [stats[Math.floor(tail * (resamples - 1))]!, stats[Math.ceil((1 - tail) * (resamples - 1))]!];
}
