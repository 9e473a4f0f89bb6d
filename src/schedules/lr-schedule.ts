import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * A learning-rate schedule: the learning rate to use at an iteration. A pure function of the
 * iteration, so a resumed run picks up the schedule exactly where it was.
 */
export type LRSchedule = (iter: number) => number;

function positive(name: string, v: number): void {
  if (!(v > 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`${name} must be a positive number, got ${String(v)}`);
}

/**
 * A constant learning rate.
 *
 * @example
 * ```ts
 * constantLR(0.1)(500); // 0.1
 * ```
 */
export function constantLR(base: number): LRSchedule {
  positive('base learning rate', base);
  return () => base;
}

/**
 * Multiplies by `gamma` every `stepSize` iterations.
 *
 * @example
 * ```ts
 * stepLR(0.1, 1000, 0.1)(2500); // 0.001
 * ```
 */
export function stepLR(base: number, stepSize: number, gamma = 0.1): LRSchedule {
  positive('base learning rate', base);
  positive('stepSize', stepSize);
  return (iter) => base * gamma ** Math.floor(iter / stepSize);
}

/**
 * Multiplies by `gamma` at each milestone (detectron2's WarmupMultiStepLR without warm-up).
 *
 * @example
 * ```ts
 * multiStepLR(0.1, [600, 800])(700); // 0.01
 * ```
 */
export function multiStepLR(base: number, milestones: readonly number[], gamma = 0.1): LRSchedule {
  positive('base learning rate', base);
  for (let i = 1; i < milestones.length; i++) {
    if (!(milestones[i]! > milestones[i - 1]!)) throw new InvalidArgumentError(`milestones must increase, got ${JSON.stringify(milestones)}`);
  }
  return (iter) => {
    let n = 0;
    for (const m of milestones) if (iter >= m) n++;
    return base * gamma ** n;
  };
}

/**
 * Cosine decay from `base` to `final` over `maxIter` iterations.
 *
 * @example
 * ```ts
 * cosineLR(0.1, 1000)(500); // 0.05
 * ```
 */
export function cosineLR(base: number, maxIter: number, final = 0): LRSchedule {
  positive('base learning rate', base);
  positive('maxIter', maxIter);
  return (iter) => final + (base - final) * 0.5 * (1 + Math.cos((Math.PI * Math.min(iter, maxIter)) / maxIter));
}

/**
 * Linear warm-up in front of any schedule: at iteration 0 the rate is `factor` × the schedule's,
 * rising linearly to 1× at `warmupIters`.
 *
 * @example
 * ```ts
 * const lr = linearWarmup(cosineLR(0.1, 10_000), 500, 0.001);
 * ```
 */
export function linearWarmup(schedule: LRSchedule, warmupIters: number, factor = 0.001): LRSchedule {
  if (!Number.isInteger(warmupIters) || warmupIters < 0) throw new InvalidArgumentError(`warmupIters must be a non-negative integer, got ${String(warmupIters)}`);
  return (iter) => {
    if (iter >= warmupIters) return schedule(iter);
    const alpha = iter / warmupIters;
    return schedule(iter) * (factor * (1 - alpha) + alpha);
  };
}
