#!/usr/bin/env node
// The `trainledger` command. Runs the compiled CLI (dist/, built by `npm run build`, which
// `npm install` / `npm ci` run through `prepare`).
import { runCli } from '../dist/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
