import { InvalidArgumentError } from '../errors/trainledger-error.js';
import type { MetricChartFormat, MetricChartSpec, MetricPanel, MetricSeries } from './metric-chart-spec.js';

/**
 * Checks the shape of a chart spec before any charting library sees it, so that mistakes
 * surface as an {@link InvalidArgumentError} naming the bad value rather than as an obscure
 * vega failure. Non-finite metric values are allowed: they are marked, not drawn on a line.
 *
 * @example
 * ```ts
 * validateMetricChartSpec({ panels: [{ title: 'loss', series: [{ name: 'loss', points: [[0, 1]] }] }], 'png');
 * ```
 */
export function validateMetricChartSpec(spec: MetricChartSpec, format: MetricChartFormat): void {
  if (format !== 'svg' && format !== 'png') {
    throw new InvalidArgumentError(`format ${JSON.stringify(format)} is not supported; expected 'svg' or 'png'`);
  }
  if (typeof spec !== 'object' || spec === null || !Array.isArray(spec.panels)) {
    throw new InvalidArgumentError(`spec.panels is ${describe(spec?.panels)}; expected an array of panels`);
  }
  if (spec.panels.length === 0) {
    throw new InvalidArgumentError('spec.panels is empty; expected at least one panel');
  }
  checkPixelSize('spec.width', spec.width);
  checkPixelSize('spec.height', spec.height);
  if (spec.title !== undefined && typeof spec.title !== 'string') {
    throw new InvalidArgumentError(`spec.title is ${describe(spec.title)}; expected a string`);
  }
  spec.panels.forEach((panel, p) => {
    const where = `spec.panels[${p}]`;
    if (typeof panel?.title !== 'string') {
      throw new InvalidArgumentError(`${where}.title is ${describe(panel?.title)}; expected a string`);
    }
    if (panel.yScale !== undefined && panel.yScale !== 'linear' && panel.yScale !== 'log') {
      throw new InvalidArgumentError(`${where}.yScale is ${describe(panel.yScale)}; expected 'linear' or 'log'`);
    }
    const seriesList: MetricPanel['series'] = panel.series;
    if (!Array.isArray(seriesList) || seriesList.length === 0) {
      throw new InvalidArgumentError(
        `${where}.series (panel ${JSON.stringify(panel.title)}) is ${describe(seriesList)}; expected at least one series`,
      );
    }
    const seen = new Set<string>();
    seriesList.forEach((series: MetricSeries, s: number) => {
      const at = `${where}.series[${s}]`;
      if (typeof series?.name !== 'string' || series.name.length === 0) {
        throw new InvalidArgumentError(`${at}.name is ${describe(series?.name)}; expected a non-empty string`);
      }
      if (seen.has(series.name)) {
        // The legend maps names to colours, so two series of one name would be indistinguishable.
        throw new InvalidArgumentError(
          `${at}.name ${JSON.stringify(series.name)} repeats in panel ${JSON.stringify(panel.title)}; expected unique series names`,
        );
      }
      seen.add(series.name);
      checkPoints(`${at}.points`, series.points);
      if (series.smoothed !== undefined) checkPoints(`${at}.smoothed`, series.smoothed);
      if (series.nonFinite !== undefined) checkCounts(`${at}.nonFinite`, series.nonFinite);
      if (series.nonPositive !== undefined && !(Number.isInteger(series.nonPositive) && series.nonPositive >= 0)) {
        throw new InvalidArgumentError(`${at}.nonPositive is ${describe(series.nonPositive)}; expected a non-negative integer`);
      }
    });
  });
}

function checkPixelSize(where: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${where} is ${describe(value)}; expected a positive integer number of pixels`);
  }
}

function checkPoints(where: string, points: unknown): void {
  if (!Array.isArray(points)) {
    throw new InvalidArgumentError(`${where} is ${describe(points)}; expected an array of [iteration, value] pairs`);
  }
  (points as ReadonlyArray<unknown>).forEach((point, i) => {
    if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'number' || typeof point[1] !== 'number') {
      throw new InvalidArgumentError(`${where}[${i}] is ${describe(point)}; expected an [iteration, value] pair of numbers`);
    }
  });
}

function checkCounts(where: string, counts: unknown): void {
  const c = counts as Record<string, unknown> | null;
  const ok = typeof c === 'object' && c !== null && ['nan', 'posInf', 'negInf'].every((k) => Number.isInteger(c[k]) && (c[k] as number) >= 0);
  if (!ok) throw new InvalidArgumentError(`${where} is ${describe(counts)}; expected { nan, posInf, negInf } counts, each a non-negative integer`);
}

/** Short rendering of a bad value for messages; long arrays are cut so a message stays readable. */
function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
