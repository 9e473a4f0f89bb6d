import { filter, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Keeps events of iteration `iter` only.
 *
 * @example
 * ```ts
 * events$.pipe(ofType('step-completed'), once(0), tap(() => console.log('first step done')));
 * ```
 */
export function once<E extends { readonly iter: number }>(iter: number): MonoTypeOperatorFunction<E> {
  return filter((e: E) => e.iter === iter);
}
