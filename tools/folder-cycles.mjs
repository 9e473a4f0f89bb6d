#!/usr/bin/env node
// Fails (exit 1) when two folders under src/ import each other, directly or through others, or
// (with --max-lines N) when a source file is longer than N lines. The graph comes from the
// import/export statements themselves, so it needs no build.
//   node tools/folder-cycles.mjs [src] [--graph] [--max-lines 350]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const argv = process.argv.slice(2);
const maxLinesAt = argv.indexOf('--max-lines');
const maxLines = maxLinesAt >= 0 ? Number(argv[maxLinesAt + 1]) : Infinity;
if (maxLinesAt >= 0 && !(Number.isInteger(maxLines) && maxLines > 0)) {
  console.error(`folder-cycles: --max-lines takes a positive whole number, got ${argv[maxLinesAt + 1]}`);
  process.exit(2);
}
const root = resolve(argv.find((a, i) => !a.startsWith('--') && i !== maxLinesAt + 1) ?? 'src');

/** The folder a file belongs to: its first path segment under src/ ('.' for src/index.ts). */
function folderOf(file) {
  const rel = relative(root, file);
  return rel.includes(sep) ? rel.split(sep)[0] : '.';
}

function* sourceFiles(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

const specifier = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const edges = new Map(); // folder -> Map(folder -> example "file -> import")
const tooLong = [];
for (const file of sourceFiles(root)) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > maxLines) tooLong.push(`${relative(root, file)} (${lines} lines)`);
  for (const m of text.matchAll(specifier)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith('.')) continue;
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(root)) continue;
    const from = folderOf(file);
    const to = folderOf(target.replace(/\.js$/, '.ts'));
    if (from === to || from === '.') continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${relative(root, file)} -> ${spec}`);
  }
}

// Tarjan's strongly connected components: any component of two or more folders is a cycle.
let index = 0;
const stack = [];
const info = new Map();
const cycles = [];
function visit(v) {
  info.set(v, { index, low: index, onStack: true });
  index++;
  stack.push(v);
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!info.has(w)) {
      visit(w);
      info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
    } else if (info.get(w).onStack) {
      info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
  }
  if (info.get(v).low === info.get(v).index) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      info.get(w).onStack = false;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  }
}
const folders = new Set([...edges.keys(), ...[...edges.values()].flatMap((m) => [...m.keys()])]);
for (const f of [...folders].sort()) if (!info.has(f)) visit(f);

if (process.argv.includes('--graph')) {
  for (const [from, tos] of [...edges].sort()) console.log(`${from} -> ${[...tos.keys()].sort().join(', ')}`);
}
for (const file of tooLong) console.error(`folder-cycles: ${file} is longer than ${maxLines} lines: split it by responsibility`);
if (cycles.length === 0) {
  const limit = Number.isFinite(maxLines) ? `, no file over ${maxLines} lines` : '';
  if (tooLong.length === 0) console.log(`folder-cycles: no cycle between the ${folders.size} folders of ${relative(process.cwd(), root) || '.'}${limit}`);
  process.exit(tooLong.length === 0 ? 0 : 1);
}
for (const component of cycles) {
  console.error(`folder-cycles: these folders import each other: ${component.join(', ')}`);
  for (const from of component) {
    for (const [to, example] of edges.get(from) ?? []) {
      if (component.includes(to)) console.error(`  ${from} -> ${to}  (${example})`);
    }
  }
}
process.exit(1);
