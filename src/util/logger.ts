/** Where hooks and writers report (detectron2 uses `logging`); plug in pino, winston, or a test array. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * Writes info lines to stdout and warnings to stderr, prefixed like detectron2's logger.
 *
 * @example
 * ```ts
 * new CommonMetricPrinter(1000, { logger: consoleLogger });
 * ```
 */
export const consoleLogger: Logger = Object.freeze({
  info: (m: string) => process.stdout.write(`[trainledger] ${m}\n`),
  warn: (m: string) => process.stderr.write(`[trainledger] WARNING ${m}\n`),
});

/**
 * A logger that keeps lines in memory (tests, or capturing a run's console).
 *
 * @example
 * ```ts
 * const log = memoryLogger(); hook.logger = log; log.lines;
 * ```
 */
export function memoryLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`WARNING ${m}`) };
}
