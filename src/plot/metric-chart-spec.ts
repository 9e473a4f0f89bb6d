/** One sample of a metric: the iteration it was logged at and its value. */
export type MetricPoint = readonly [iteration: number, value: number];

/** How many samples of a series had a value that cannot sit on a line. */
export interface NonFiniteCounts {
  readonly nan: number;
  readonly posInf: number;
  readonly negInf: number;
}

/** One metric line in a panel; `smoothed`, when given, is drawn solid over the faded raw line. */
export interface MetricSeries {
  /** Metric name, shown in the panel's legend; unique within its panel. */
  readonly name: string;
  readonly points: ReadonlyArray<MetricPoint>;
  readonly smoothed?: ReadonlyArray<MetricPoint>;
  /**
   * The counts the legend shows for NaN/±Infinity values of `points`; give them when `points` is
   * a downsampled view (see `downsampleM4`) that keeps only some of them. Default: counted from `points`.
   */
  readonly nonFinite?: NonFiniteCounts;
  /** How many finite values ≤ 0 `points` stands for (a log axis title counts them); default: counted from `points`. */
  readonly nonPositive?: number;
}

/** One chart panel (for example "loss" or "accuracy") sharing a y axis. */
export interface MetricPanel {
  readonly title: string;
  readonly series: ReadonlyArray<MetricSeries>;
  /** Title of the y axis; none by default since the panel title usually says it. */
  readonly yTitle?: string;
  /**
   * What the solid lines are, as the panel's legend names them beside the faded "raw" ones
   * (e.g. "median of 20 iterations"); the legend is shown when every series has a smoothed
   * line. Default "smoothed".
   */
  readonly smoothedLabel?: string;
  /**
   * `'log'` draws the y axis on a log scale: values ≤ 0 cannot sit on it, so they are left out
   * of the lines and the axis title says how many raw ones were. Default `'linear'`.
   */
  readonly yScale?: 'linear' | 'log';
}

/** What to draw: panels stacked vertically, all with iteration on the x axis. */
export interface MetricChartSpec {
  readonly panels: ReadonlyArray<MetricPanel>;
  /** Title above all panels. */
  readonly title?: string;
  /** Width of the whole image in pixels (default 640). */
  readonly width?: number;
  /** Height of the whole image in pixels (default 260 per panel, plus room for `title`). */
  readonly height?: number;
}

/** Output encoding of `renderMetricChart`. */
export type MetricChartFormat = 'svg' | 'png';
