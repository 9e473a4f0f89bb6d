#!/usr/bin/env node
// The `trainledger` command. Runs the compiled CLI (dist/, built by `npm run build`, which
// `npm install` / `npm ci` run through `prepare`). Whatever fails prints one line and exits 2.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const mainFile = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** The one line for an error outside a command (runCli reports those itself). */
let lineFor = (e) => `trainledger: internal error: ${e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e)}`;

function die(e) {
  process.stderr.write(`${lineFor(e)}\n`);
  process.exit(2);
}
process.on('uncaughtException', die);
process.on('unhandledRejection', die);
// A reader that went away (`trainledger runs log | head`) is no error of ours.
process.stdout.on('error', (e) => (e.code === 'EPIPE' ? process.exit(process.exitCode ?? 0) : die(e)));

let cli;
try {
  cli = await import(mainFile);
} catch (e) {
  const reason = e?.code === 'ERR_MODULE_NOT_FOUND' && !existsSync(mainFile) ? ' (not built? run npm run build)' : `: ${String(e?.message ?? e).split('\n')[0]}`;
  process.stderr.write(`trainledger: cannot load the CLI from ${mainFile}${reason}\n`);
  process.exit(2);
}
if (typeof cli.cliErrorLine === 'function') lineFor = (e) => cli.cliErrorLine(e).line;
process.exitCode = await cli.runCli(process.argv.slice(2));
