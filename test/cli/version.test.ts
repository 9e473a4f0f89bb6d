import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { cli } from './cli-harness.js';
import { packageVersion } from '../../src/cli/package-version.js';
import { tempDir } from '../helpers.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

test('--version and -V print the version in package.json and exit 0', async () => {
  assert.deepEqual([await cli('--version'), await cli('-V')], [
    { code: 0, out: version, err: '' },
    { code: 0, out: version, err: '' },
  ]);
});

test('the version is read from the package.json two folders above the module, as in dist/cli/', () => {
  const d = tempDir();
  mkdirSync(join(d, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(d, 'package.json'), JSON.stringify({ name: 'trainledger', version: '9.8.7' }));
  assert.equal(packageVersion(pathToFileURL(join(d, 'dist', 'cli', 'main.js'))), '9.8.7');
});

test('a package.json that is not trainledger\'s gives a one-line error naming it', () => {
  const d = tempDir();
  mkdirSync(join(d, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(d, 'package.json'), JSON.stringify({ name: 'other' }));
  assert.throws(() => packageVersion(pathToFileURL(join(d, 'dist', 'cli', 'main.js'))), {
    code: 'ERR_PACKAGE_JSON',
    message: `${join(d, 'package.json')} is not trainledger's package.json: expected "name": "trainledger" and a "version" string`,
  });
});

test('the help lists --version', async () => {
  assert.match((await cli('--help')).out, /-V, --version\s+print the trainledger version/);
});
