/**
 * Python's `str(datetime.timedelta(seconds=int(s)))`: `H:MM:SS`, with `N day(s), ` beyond a day.
 *
 * @example
 * ```ts
 * formatTimedelta(3725); // '1:02:05'
 * ```
 */
export function formatTimedelta(seconds: number): string {
  let s = Math.trunc(seconds);
  const negative = s < 0;
  s = Math.abs(s);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const hms = `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
  const out = days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${hms}` : hms;
  return negative ? `-${out}` : out;
}

/**
 * Python's `'{:.Ng}'.format(v)`: N significant digits, trailing zeros dropped, scientific
 * notation when the exponent is below -4 or at least N.
 *
 * @example
 * ```ts
 * formatG(0.000012345, 4); // '1.234e-05'
 * formatG(2.5, 4);         // '2.5'
 * ```
 */
export function formatG(v: number, precision: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Number(v.toExponential(precision - 1).split('e')[1]);
  if (exp < -4 || exp >= precision) {
    const [m, e] = v.toExponential(precision - 1).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  const fixed = v.toFixed(Math.max(0, precision - 1 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
