/**
 * `trainledger/cli`: the `trainledger` command as a library, to embed it or call it from a script.
 *
 * @example
 * ```ts
 * import { runCli } from 'trainledger/cli';
 * process.exitCode = await runCli(['runs', 'runs/demo/demo.sqlite']);
 * ```
 */
export { runCli, buildProgram, describeState, diffStates, type DiffResult } from './main.js';
export type { CliIO } from './cli-io.js';
export { cliErrorLine, MetricNotRecordedError, IterationOutOfRangeError, OutputWriteError, OutputIsLogError, OutputExistsError, OutputNotAFileError } from './errors.js';
export { plotMetrics } from './plot-metrics.js';
