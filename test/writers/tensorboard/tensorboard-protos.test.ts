import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mediaRun, MEDIA_CONFIG } from '../media-run.js';
import { tempDir } from '../../helpers.js';

// TensorBoard's own .proto files (vendored unchanged under protos/, Apache-2.0: see protos/README.md),
// compiled by protoc for Python's protobuf at test time: our event files are checked against the
// real schema, not against our own decoder.
const here = dirname(fileURLToPath(import.meta.url));
const PROTOS = join(here, 'protos');
const DECODER = join(here, 'decode_tfevents.py');

function protoFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? protoFiles(p) : n.endsWith('.proto') ? [relative(PROTOS, p)] : [];
  });
}

/** protoc and a Python with protobuf, or why not. */
function toolchain(): { python: string } | { missing: string } {
  if (spawnSync('protoc', ['--version']).status !== 0) return { missing: 'protoc is not installed (apt-get install protobuf-compiler)' };
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import google.protobuf']).status === 0) return { python };
  }
  return { missing: 'no python3 with the protobuf package (apt-get install python3-protobuf)' };
}

interface DecodedValue {
  readonly tag: string;
  readonly kind: string | null;
  readonly plugin?: string;
  readonly simpleValue?: number | string;
  readonly image?: { height: number; width: number; colorspace: number; png: { width: number; height: number; depth: number; colorType: number; chunks: string[]; crcsOk: boolean; raw: string } | null };
  readonly histo?: { min: number; max: number; num: number; sum: number; sumSquares: number; bucketLimit: number[]; bucket: number[] };
  readonly tensor?: { dtype: number; shape: number[] };
  readonly hparamsCanonical?: boolean;
  readonly hparamsData?: string;
  readonly hparams?: Record<string, unknown>;
  readonly version?: number;
}
interface DecodedEvent {
  readonly step: number;
  readonly what: string | null;
  readonly canonical: boolean;
  readonly values?: DecodedValue[];
  readonly status?: number;
  readonly fileVersion?: string;
}

const chain = toolchain();

test("TensorBoard's own protos parse our event file: scalars, PNG images, histograms and hparams, each record re-serializing to our exact bytes", { skip: 'missing' in chain ? `skipped: ${chain.missing}` : false }, async () => {
  if ('missing' in chain) return;
  const generated = tempDir();
  const protoc = spawnSync('protoc', ['-I', PROTOS, `--python_out=${generated}`, ...protoFiles(PROTOS)], { encoding: 'utf8' });
  assert.equal(protoc.status, 0, protoc.stderr);
  const { file } = await mediaRun(tempDir(), 'log');
  const run = spawnSync(chain.python, [DECODER, generated, file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const events = JSON.parse(run.stdout) as DecodedEvent[];

  assert.deepEqual(events.filter((e) => !e.canonical), []);
  assert.deepEqual(events.slice(0, 2).map((e) => [e.what, e.fileVersion ?? e.status, e.step]), [['file_version', 'brain.Event:2', 0], ['session_log', 1, 0]]);
  const values = events.flatMap((e) => (e.values ?? []).map((v) => ({ step: e.step, ...v })));

  const hp = values.filter((v) => v.plugin === 'hparams');
  assert.deepEqual(hp.map((v) => [v.step, v.tag, v.kind, v.hparamsData, v.hparamsCanonical, v.version, v.tensor]), [[0, '_hparams_/session_start_info', 'tensor', 'session_start_info', true, 0, { dtype: 1, shape: [0] }]]);
  assert.deepEqual(hp[0]!.hparams, { lr: MEDIA_CONFIG.lr, 'model/depth': 2, 'model/name': 'mlp', steps: '[10,20]', amp: false });

  const loss = values.filter((v) => v.tag === 'loss');
  assert.deepEqual(loss.map((v) => [v.step, v.kind]), [[9, 'simple_value'], [19, 'simple_value'], [24, 'simple_value']]);
  // The median of the window ending at 9 (losses 1/(1+i), i = 0..9): float32 of 1/5.5 and 1/6, averaged.
  assert.ok(Math.abs((loss[0]!.simpleValue as number) - (1 / 5 + 1 / 6) / 2) < 1e-6);

  const images = values.filter((v) => v.kind === 'image');
  assert.deepEqual(images.map((v) => v.step), [0, 3, 6, 9, 12, 15, 18, 21, 24]);
  // The image put at 0: pixel k of 18 is 13k mod 256; two scanlines, each after its filter byte 0.
  const px = Array.from({ length: 18 }, (_, k) => ((k * 13) % 256).toString(16).padStart(2, '0'));
  const raw = `00${px.slice(0, 9).join('')}00${px.slice(9).join('')}`;
  assert.deepEqual(images[0]!.image, { height: 2, width: 3, colorspace: 3, png: { width: 3, height: 2, depth: 8, colorType: 2, chunks: ['IHDR', 'IDAT', 'IEND'], crcsOk: true, raw } });

  const histos = values.filter((v) => v.kind === 'histo');
  assert.deepEqual(histos.map((v) => v.step), [0, 4, 8, 12, 16, 20, 24]);
  assert.deepEqual(histos[1]!.histo, { min: 4, max: 7, num: 5, sum: '-inf', sumSquares: 'inf', bucketLimit: [5.5, 7], bucket: [4, 1] });
});
