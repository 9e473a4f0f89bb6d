/**
 * Orders strings by UTF-16 code units, the same on every machine (unlike `localeCompare`), so
 * listings sorted with it are reproducible.
 *
 * @example
 * ```ts
 * ['b', 'B', 'a'].sort(compareText); // ['B', 'a', 'b']
 * ```
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
