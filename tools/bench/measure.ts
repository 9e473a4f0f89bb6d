/**
 * Measuring helpers shared by the benchmarks. These machines are shared and noisy: figures are
 * medians, and the training thread's own CPU time is read beside wall time, because another
 * process taking the core inflates wall time but not CPU time.
 */
import { readFileSync } from 'node:fs';

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
