import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A temp folder removed after the test file. */
export function tempDir(prefix = 'trainledger-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `value`, or a thrown Error naming `what` when it is undefined (an index or key a test expects). */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`test expected ${what}, found nothing`);
  return value;
}
