import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogFile } from '../log/log-file.js';
import { DemoOutputNotOursError } from './errors.js';

/** Written into the demo's folder when it creates it: what a fresh run may delete. */
const MARKER = '.trainledger-demo';
/** What the demo's folder held before the marker existed (older versions of the demo). */
const OWN_ENTRIES = new Set(['live', 'replay', 'checkpoints', MARKER]);

/**
 * Deletes the outputs of an earlier demo run, and only those: the log only if it is a trainledger
 * log, the folder only if the demo made it (its marker, or nothing but the demo's own entries).
 * Anything else is `DemoOutputNotOursError`, and nothing is deleted.
 *
 * @example
 * ```ts
 * clearDemoOutputs('runs/demo.sqlite', 'runs/demo');
 * ```
 */
export function clearDemoOutputs(logPath: string, demoDir: string): void {
  if (existsSync(logPath)) {
    try {
      LogFile.open(logPath, { readonly: true }).close();
    } catch (e) {
      throw new DemoOutputNotOursError(logPath, `it is not a trainledger log (${(e as Error).message})`);
    }
  }
  if (existsSync(demoDir)) {
    if (!statSync(demoDir).isDirectory()) throw new DemoOutputNotOursError(demoDir, 'it is not a folder');
    const entries = readdirSync(demoDir);
    const stranger = entries.find((e) => !OWN_ENTRIES.has(e));
    if (!entries.includes(MARKER) && stranger !== undefined) throw new DemoOutputNotOursError(demoDir, `it holds ${JSON.stringify(stranger)}, which the demo did not write`);
  }
  for (const p of [logPath, `${logPath}-wal`, `${logPath}-shm`, `${logPath}.snapshots`, `${logPath}.snapshots-wal`, `${logPath}.snapshots-shm`]) rmSync(p, { force: true });
  rmSync(demoDir, { recursive: true, force: true });
}

/**
 * Marks the demo's folder as the demo's (see `clearDemoOutputs`).
 *
 * @example
 * ```ts
 * markDemoDir('runs/demo');
 * ```
 */
export function markDemoDir(demoDir: string): void {
  writeFileSync(join(demoDir, MARKER), 'made by the trainledger demo: a fresh demo run deletes this folder\n');
}
