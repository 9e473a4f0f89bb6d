import { filter, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Keeps events of iterations above `iter`.
 *
 * @example
 * ```ts
 * events$.pipe(ofType('step-completed'), after(1000));
 * ```
 */
export function after<E extends { readonly iter: number }>(iter: number): MonoTypeOperatorFunction<E> {
  return filter((e: E) => e.iter > iter);
}
