import { filter, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Keeps events of iterations below `iter`.
 *
 * @example
 * ```ts
 * events$.pipe(ofType('step-completed'), before(100)); // warm-up only
 * ```
 */
export function before<E extends { readonly iter: number }>(iter: number): MonoTypeOperatorFunction<E> {
  return filter((e: E) => e.iter < iter);
}
