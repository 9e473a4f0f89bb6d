import { readFileSync } from 'node:fs';
import { PackageJsonError } from './errors.js';

/**
 * trainledger's version, read from the package.json two folders above this module: `src/cli/`
 * (run through tsx) and `dist/cli/` (the published build) both sit at that depth. `from` is this
 * module's URL (a test passes another layout's).
 */
export function packageVersion(from: string | URL = import.meta.url): string {
  const url = new URL('../../package.json', from);
  const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: unknown; version?: unknown };
  if (pkg.name !== 'trainledger' || typeof pkg.version !== 'string') {
    throw new PackageJsonError(url.pathname);
  }
  return pkg.version;
}
