import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import requireEsm from '../../src/cjs/require-esm.cjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

interface Conditions {
  readonly types: string;
  readonly import: string;
  readonly require: string;
}

test('require() of an entry hands back what its loader gives', () => {
  const namespace = { SimpleTrainer: class {} };
  assert.equal(requireEsm('trainledger', () => namespace), namespace);
});

test('require() on a Node.js that cannot require() ES modules says, in one line, to use import() or a newer Node.js', () => {
  const nodeError = Object.assign(new Error('require() of ES Module /app/node_modules/trainledger/dist/index.js not supported.\nInstead change the require...'), { code: 'ERR_REQUIRE_ESM' });
  let thrown: unknown;
  try {
    requireEsm('trainledger/demo', () => {
      throw nodeError;
    });
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown instanceof Error);
  assert.equal(thrown.name, 'RequireEsmError');
  assert.equal((thrown as Error & { code?: string }).code, 'ERR_REQUIRE_ESM');
  assert.equal(thrown.cause, nodeError);
  assert.equal(
    thrown.message,
    `trainledger/demo is an ES module, and this Node.js (${process.version}) does not require() ES modules (20.19+ and 22.12+ do, unless started with --no-experimental-require-module): ` +
      "load it with `const { SimpleTrainer } = await import('trainledger/demo')` inside an async function, or upgrade Node.js",
  );
});

test('any other failure of require() goes through unchanged', () => {
  const other = Object.assign(new Error('Cannot find module better-sqlite3'), { code: 'MODULE_NOT_FOUND' });
  assert.throws(() => requireEsm('trainledger', () => { throw other; }), (e) => e === other);
});

test("every entry's require condition loads the same compiled module as its import condition", () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, Conditions | string> };
  const pairs = Object.entries(pkg.exports)
    .filter((entry): entry is [string, Conditions] => typeof entry[1] === 'object')
    .map(([subpath, c]) => {
      // The wrapper's source: ./dist/cjs/plot.cjs is src/cjs/plot.cts, whose require() names a path relative to dist/cjs/.
      const source = readFileSync(join(root, c.require.replace(/^\.\/dist\//, 'src/').replace(/\.cjs$/, '.cts')), 'utf8');
      const required = /require\('(\.\.\/[^']+)'\)/.exec(source)?.[1];
      return [subpath, required === undefined ? null : `./dist/${required.replace(/^\.\.\//, '')}`, c.import];
    });
  assert.deepEqual(
    pairs.map(([subpath, required]) => [subpath, required]),
    pairs.map(([subpath, , imported]) => [subpath, imported]),
  );
  assert.deepEqual(pairs.map(([subpath]) => subpath), ['.', './plot', './demo', './cli']);
});
