import { LogFile } from '../../src/log/log-file.js';

/**
 * Writes a run of `steps` steps × 10 metrics (`m0`..`m9`, even ones smoothed), `value(iter, k)`
 * each, with a JSON writer's write point (`json:m.json`) every 20 steps, as a trainer records
 * them, but without one (fast). Step `i` ends at wall time `i`.
 *
 * @example
 * ```ts
 * await bigRun('runs/big.sqlite', 2000, (it, k) => it + k);
 * ```
 */
export async function bigRun(path: string, steps: number, value: (iter: number, k: number) => number, historyMaxLength?: number): Promise<void> {
  const log = LogFile.open(path);
  const w = log.createRun({ name: 'big' });
  w.event({ type: 'run-started', v: 1, data: { name: 'big', config: {}, startIter: 0, maxIter: steps, historyMaxLength, wallTime: 0, host: { hostname: 'h', platform: 'p', node: 'n', pid: 1 } } });
  for (let it = 0; it < steps; it++) {
    for (let k = 0; k < 10; k++) w.scalar(`m${k}`, k % 2 === 0, it, value(it, k));
    if ((it + 1) % 20 === 0) w.event({ type: 'writer-cursor', v: 1, data: { writer: 'json:m.json', iter: it } });
    w.step(it, it);
  }
  w.event({ type: 'run-completed', v: 1, data: { iter: steps, wallTime: steps } });
  await w.close();
  log.close();
}
