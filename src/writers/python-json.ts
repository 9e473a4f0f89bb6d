/**
 * JSON text as Python's `json.dumps(obj, sort_keys=True)` writes it, so metrics.json files are
 * byte-compatible with detectron2's and its tools: `", "` and `": "` separators, floats in
 * Python's repr (`1e-05`, `100.0`), and `NaN` / `Infinity` tokens (Python's json reads them).
 */

/**
 * A float as Python's `repr` writes it: shortest round-trip digits, scientific notation when the
 * exponent is below -4 or at least 16, and `.0` on integral values.
 *
 * @example
 * ```ts
 * pythonFloat(0.00001); // '1e-05'
 * pythonFloat(100);     // '100.0'
 * ```
 */
export function pythonFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e16) {
    // Here both JS and repr print the shortest round-trip digits without an exponent; repr
    // adds '.0' to integral values. (The common case: losses, times, rates.) JSON.stringify
    // writes a finite number exactly as String() does (by spec), in half the time in V8.
    const s = JSON.stringify(v);
    return Number.isInteger(v) ? s + '.0' : s;
  }
  // toExponential() without digits gives the shortest digits that round-trip, like repr.
  const [mantissa, expText] = v.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let out: string;
  if (exp >= -4 && exp < 16) {
    if (exp >= digits.length - 1) {
      out = digits + '0'.repeat(exp - digits.length + 1) + '.0';
    } else if (exp >= 0) {
      out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
    } else {
      out = '0.' + '0'.repeat(-exp - 1) + digits;
    }
  } else {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const e = Math.abs(exp);
    out = `${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  return negative ? '-' + out : out;
}

/**
 * One metrics.json line: keys sorted, `iteration` an integer, metric values as Python floats.
 *
 * @example
 * ```ts
 * metricsLine(19, { loss: 0.5 }); // '{"iteration": 19, "loss": 0.5}'
 * ```
 */
export function metricsLine(iteration: number, values: Readonly<Record<string, number>>): string {
  const entries: Array<[string, string]> = Object.entries(values).map(([k, v]) => [k, pythonFloat(v)]);
  entries.push(['iteration', String(iteration)]);
  // Python sorts keys by code point; so does a plain comparison of JS strings of BMP text.
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return '{' + entries.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ') + '}';
}
