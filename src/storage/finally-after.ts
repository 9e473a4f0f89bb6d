/**
 * Runs `fn`, then `after` when it returns, throws, or (if it returns a promise) settles; returns
 * what `fn` returns. EventStorage.nameScope restores the outer prefix this way.
 *
 * @example
 * ```ts
 * finallyAfter(() => storage.putScalar('acc', 1), () => console.log('done'));
 * ```
 */
export function finallyAfter<T>(fn: () => T, after: () => void): T {
  let result: T;
  try {
    result = fn();
  } catch (e) {
    after();
    throw e;
  }
  if (result instanceof Promise) return result.finally(after) as T;
  after();
  return result;
}
