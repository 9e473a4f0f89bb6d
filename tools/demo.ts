/**
 * The main job: train on real MNIST digits with the standard hooks, writing runs/demo.sqlite,
 * then replay the log (no training) to regenerate metrics.json, CSV, TensorBoard files and a
 * plot, and check that the replayed metrics.json equals the live one byte for byte.
 *
 *   npm run demo [-- --steps 1500 --backend auto --model mlp]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { runMnistDemo } from '../src/demo/run-mnist-demo.js';
import { exportRun } from '../src/cli/export-run.js';
import { plotMetrics } from '../src/cli/plot-metrics.js';
import { parseChoice, parseIntArg, parseNonNegativeNumber } from '../src/cli/arguments.js';
import { cliErrorLine } from '../src/cli/errors.js';
import { LogFile } from '../src/log/log-file.js';
import type { BackendChoice } from '../src/engine/backend.js';
import type { DemoModelKind } from '../src/demo/mnist-model.js';
import { demoVerdict, FULL_DEMO_STEPS, trainedFrom, trainingLine } from './demo-report.js';

// Whatever stops the demo (a bad option, an --out the demo did not make, a file it cannot write)
// is one line, as the CLI prints it, not a stack trace.
process.on('uncaughtException', (e) => {
  process.stderr.write(`${cliErrorLine(e).line.replace(/^trainledger: /, 'demo: ')}\n`);
  process.exit(2);
});

const program = new Command('demo')
  .option('--steps <n>', `training iterations (the 95% accuracy bar is checked from ${FULL_DEMO_STEPS} on)`, parseIntArg('--steps', 1), FULL_DEMO_STEPS)
  .option('--batch-size <n>', 'batch size', parseIntArg('--batch-size', 1), 64)
  .option('--lr <x>', 'peak learning rate (Adam)', parseNonNegativeNumber('--lr'), 2e-3)
  .option('--eval-period <n>', 'evaluate on the test split every n iterations', parseIntArg('--eval-period', 1), 250)
  .option('--backend <name>', 'auto | tensorflow | wasm | cpu', parseChoice('--backend', ['auto', 'tensorflow', 'wasm', 'cpu']), 'auto')
  .option('--model <kind>', 'auto | mlp | cnn', parseChoice('--model', ['auto', 'mlp', 'cnn']), 'auto')
  .option('--seed <n>', 'data split, order and init seed', parseIntArg('--seed'), 7)
  .option('--out <dir>', 'output folder', 'runs')
  .option('--resume', 'continue the demo run from its newest checkpoint (after a crash or Ctrl-C)')
  .exitOverride();
try {
  program.parse();
} catch (e) {
  // Commander printed its own one-line message (or the help, exit 0).
  process.exit(e instanceof CommanderError ? (e.exitCode === 0 ? 0 : 2) : (process.stderr.write(`${cliErrorLine(e).line.replace(/^trainledger: /, 'demo: ')}\n`), 2));
}
const opts = program.opts<{ steps: number; batchSize: number; lr: number; evalPeriod: number; backend: BackendChoice; model: DemoModelKind | 'auto'; seed: number; out: string; resume?: boolean }>();

// Events the run records from here on were made by this process (seconds, as events record time).
const since = Date.now() / 1000;
const result = await runMnistDemo({ ...opts, checkpointPeriod: Math.max(1, Math.floor(opts.steps / 3)) });

// Replay: everything below comes from the log alone.
const log = LogFile.open(result.logPath, { readonly: true });
const run = log.run(result.runName);
const replayDir = join(opts.out, 'demo', 'replay');
const { state } = exportRun(log, run.id, {
  json: join(replayDir, 'metrics.json'),
  csv: join(replayDir, 'metrics.csv'),
  tensorboard: join(replayDir, 'tensorboard'),
});
const plot = await plotMetrics(state, [['total_loss'], ['test/accuracy']], join(replayDir, 'curves.png'));
log.close();
const same = readFileSync(join(replayDir, 'metrics.json')).equals(readFileSync(result.liveMetrics));
const facts = {
  steps: opts.steps,
  runId: run.id,
  runName: run.name,
  trainedFrom: trainedFrom(state, since),
  reached: state.iter,
  status: state.info.status,
  seconds: result.seconds,
  backend: result.backend,
  model: result.model,
  testAccuracy: result.testAccuracy,
  replayIdentical: same,
};
console.log(`\n${trainingLine(facts)}`);
console.log(`
log (SQLite, append-only):   ${result.logPath}   (run ${run.id} "${run.name}")
live metrics.json:           ${result.liveMetrics}
checkpoints:                 ${result.checkpoints}
replayed from the log:
  metrics.json               ${join(replayDir, 'metrics.json')}   (${same ? 'identical to the live file' : 'DIFFERS from the live file'})
  CSV                        ${join(replayDir, 'metrics.csv')}
  TensorBoard                ${join(replayDir, 'tensorboard')}   (tensorboard --logdir ${join(replayDir, 'tensorboard')})
  plot                       ${plot}
inspect:  npx trainledger runs ${result.logPath}
          npx trainledger show ${result.logPath} --run ${run.id} --iter ${Math.floor(opts.steps / 2)}`);
const verdict = demoVerdict(facts);
for (const note of verdict.notes) console.log(note);
for (const error of verdict.errors) console.error(error);
process.exitCode = verdict.exitCode;
