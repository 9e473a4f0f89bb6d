import { pipe, type MonoTypeOperatorFunction } from 'rxjs';
import { after } from './after.js';
import { before } from './before.js';
import { InvalidArgumentError } from '../errors/trainledger-error.js';

/**
 * Keeps events of iterations `first..last`, both included.
 *
 * @example
 * ```ts
 * events$.pipe(ofType('step-completed'), between(100, 199));
 * ```
 */
export function between<E extends { readonly iter: number }>(first: number, last: number): MonoTypeOperatorFunction<E> {
  if (!(first <= last)) throw new InvalidArgumentError(`between(first, last) needs first <= last, got ${first} and ${last}`);
  return pipe(after<E>(first - 1), before<E>(last + 1));
}
