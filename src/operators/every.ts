import { filter, type MonoTypeOperatorFunction } from 'rxjs';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * Keeps events of every n-th iteration, detectron2-style: `(iter + 1) % n === 0`, so with n = 20
 * iterations 19, 39, … pass (the 20th, 40th, … iteration).
 *
 * @example
 * ```ts
 * events$.pipe(ofType('step-completed'), every(100), tap(() => console.log('100 more')));
 * ```
 */
export function every<E extends { readonly iter: number }>(n: number): MonoTypeOperatorFunction<E> {
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`every(n) needs a positive integer n, got ${String(n)}`);
  return filter((e: E) => (e.iter + 1) % n === 0);
}
