// Runs a Node program in this process and reports, on exit, its wall time and peak RSS as a
// last stderr line `@rusage {"ms":…,"maxRssKb":…}`: Node gives no resource usage of a child.
//   node tools/bench/rusage.mjs PROGRAM [ARGS...]
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const started = performance.now();
const [, , program, ...args] = process.argv;
process.on('exit', () => {
  process.stderr.write(`\n@rusage ${JSON.stringify({ ms: performance.now() - started, maxRssKb: process.resourceUsage().maxRSS })}\n`);
});
process.argv = [process.argv[0], resolve(program), ...args];
await import(pathToFileURL(resolve(program)).href);
