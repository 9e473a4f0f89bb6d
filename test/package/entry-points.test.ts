import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Static import/export statements (not `import()`: a dynamic import loads only when its code runs;
// not `import type`/`export type`: erased from the JavaScript).
const STATIC = /(?:^|\n)\s*(?:import|export)\b(?!\s+type\b)[^'"();]*?from\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** The packages loaded, directly or through other modules of ours, by importing `entry` (a src/ file). */
function packagesLoadedBy(entry: string): Map<string, string> {
  const packages = new Map<string, string>(); // package -> first file of ours that imports it
  const seen = new Set<string>();
  const todo = [resolve(root, entry)];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC)) {
      const spec = m[1] ?? m[2] ?? '';
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        assert.ok(existsSync(target), `${relative(root, file)} imports ${spec}, which does not exist`);
        todo.push(target);
      } else if (!spec.startsWith('node:')) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!packages.has(name)) packages.set(name, relative(root, file));
      }
    }
  }
  return packages;
}

/** What a `trainledger/...` subpath is built from: its entry in package.json's exports, as a src/ file. */
function exportedEntry(subpath: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { import: string; types: string }> };
  const target = pkg.exports[subpath];
  assert.ok(target, `package.json exports no ${subpath}`);
  assert.equal(target.types, target.import.replace(/\.js$/, '.d.ts'), `${subpath}: types and code point at different modules`);
  return target.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
}

// What only charts, the demo, MNIST or the command line need: not a cost of every trainer.
const NOT_FOR_THE_TRAINER = ['vega', 'vega-lite', '@resvg/resvg-js', '@expo-google-fonts/inter', 'mnist', 'commander', 'cli-table3'];

test('importing trainledger loads no charting, demo, dataset or command-line package', () => {
  const loaded = packagesLoadedBy(exportedEntry('.'));
  const offenders = NOT_FOR_THE_TRAINER.filter((p) => loaded.has(p)).map((p) => `${p} (from ${loaded.get(p)})`);
  assert.deepEqual(offenders, []);
  // The walk reaches the trainer's own dependencies, so an empty list above means something.
  assert.deepEqual(['@tensorflow/tfjs', 'better-sqlite3', 'rxjs', 'immer'].filter((p) => !loaded.has(p)), []);
});

test('importing trainledger/plot loads no package: the charting ones load when a chart is drawn (optional peers)', () => {
  assert.deepEqual([...packagesLoadedBy(exportedEntry('./plot')).keys()], []);
});

test('trainledger/demo and trainledger/cli are entries of their own', () => {
  assert.equal(exportedEntry('./demo'), 'src/demo/index.ts');
  assert.equal(exportedEntry('./cli'), 'src/cli/index.ts');
  assert.ok(packagesLoadedBy(exportedEntry('./cli')).has('commander'));
});

test('the command line loads the charting packages only when plot runs', () => {
  const loaded = packagesLoadedBy('src/cli/main.ts');
  assert.deepEqual(['vega', 'vega-lite', '@resvg/resvg-js', '@expo-google-fonts/inter'].filter((p) => loaded.has(p)), []);
});

interface Manifest {
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
  readonly peerDependenciesMeta: Record<string, { optional?: boolean }>;
}

test('the packages importing trainledger loads are installed with it: dependencies or required peers', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const required = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies).filter((p) => pkg.peerDependenciesMeta[p]?.optional !== true)]);
  const loaded = [...packagesLoadedBy(exportedEntry('.')).keys()].sort();
  assert.deepEqual(loaded.filter((p) => !required.has(p)), []);
  assert.deepEqual(loaded, ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'better-sqlite3', 'cli-progress', 'immer', 'rxjs']);
});

test('tfjs is a peer (one copy, the user’s), the demo data and chart packages optional peers, all dev dependencies here', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const optional = Object.keys(pkg.peerDependenciesMeta).filter((p) => pkg.peerDependenciesMeta[p]?.optional === true).sort();
  assert.deepEqual(Object.keys(pkg.peerDependencies).sort(), ['@expo-google-fonts/inter', '@resvg/resvg-js', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'mnist', 'vega', 'vega-lite']);
  assert.deepEqual(optional, ['@expo-google-fonts/inter', '@resvg/resvg-js', 'mnist', 'vega', 'vega-lite']);
  assert.deepEqual(Object.keys(pkg.peerDependencies).filter((p) => p in pkg.dependencies || !(p in pkg.devDependencies)), []);
});
