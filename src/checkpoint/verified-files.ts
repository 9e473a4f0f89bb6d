import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { CheckpointManifest } from './checkpoint-manifest.js';
import { CheckpointCorruptError } from './errors.js';
import { decodeWeightsInOrder, weightsFileProblem, type NamedWeight, type WeightsFileJson } from './named-weights.js';

/** A checkpoint's files, each read once and checked against its manifest, by file name. */
export type VerifiedFiles = ReadonlyMap<string, Buffer>;

/**
 * Reads every file the manifest lists once and checks its size and SHA-256; the verified bytes
 * are what gets decoded, so a file changing between check and use cannot slip through.
 *
 * @example
 * ```ts
 * const files = await readVerified('iter-5', '/runs/ckpt/iter-5', manifest);
 * ```
 */
export async function readVerified(name: string, dir: string, manifest: CheckpointManifest): Promise<VerifiedFiles> {
  const files = new Map<string, Buffer>();
  for (const [file, expected] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (cause) {
      throw new CheckpointCorruptError(name, path, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)}); the manifest lists it`, { cause });
    }
    if (bytes.byteLength !== expected.bytes) {
      throw new CheckpointCorruptError(name, path, `has ${bytes.byteLength} bytes; the manifest records ${expected.bytes}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== expected.sha256) {
      throw new CheckpointCorruptError(name, path, `has SHA-256 ${sha256}; the manifest records ${expected.sha256}`);
    }
    files.set(file, bytes);
  }
  return files;
}

/**
 * The verified bytes of `path` parsed as JSON.
 *
 * @example
 * ```ts
 * const state = parseJsonOrThrow('iter-5', join(dir, 'state.json'), files);
 * ```
 */
export function parseJsonOrThrow(name: string, path: string, files: VerifiedFiles): unknown {
  const bytes = fileOrThrow(name, path, files);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new CheckpointCorruptError(name, path, 'is not valid JSON', { cause });
  }
}

/**
 * The verified bytes of `path`.
 *
 * @example
 * ```ts
 * const bytes = fileOrThrow('iter-5', join(dir, 'model.json'), files);
 * ```
 */
export function fileOrThrow(name: string, path: string, files: VerifiedFiles): Buffer {
  const bytes = files.get(basename(path));
  if (bytes === undefined) throw new CheckpointCorruptError(name, path, 'is not listed in the manifest');
  return bytes;
}

/**
 * Decodes a `<part>.json` / `<part>.bin` pair; the tensors go into `owned` for the caller to dispose.
 *
 * @example
 * ```ts
 * const saved = readWeightsFile('iter-5', dir, 'optimizer.json', 'optimizer.bin', files, owned);
 * ```
 */
export function readWeightsFile(name: string, dir: string, jsonFile: string, binFile: string, files: VerifiedFiles, owned: tf.Tensor[]): NamedWeight[] {
  const jsonPath = join(dir, jsonFile);
  const json = parseJsonOrThrow(name, jsonPath, files);
  const problem = weightsFileProblem(json);
  if (problem !== undefined) throw new CheckpointCorruptError(name, jsonPath, problem);
  const specs = (json as WeightsFileJson).weights;
  const bytes = fileOrThrow(name, join(dir, binFile), files);
  const weights = decodeOrThrow(name, join(dir, binFile), bytes, specs);
  owned.push(...weights.map((w) => w.tensor));
  return weights;
}

/**
 * Tensors decoded from `bytes` in spec order, named by their specs; a failure is {@link CheckpointCorruptError}.
 *
 * @example
 * ```ts
 * const tensors = decodeOrThrow('iter-5', binPath, bytes, specs);
 * ```
 */
export function decodeOrThrow(name: string, path: string, bytes: Uint8Array, specs: readonly tf.io.WeightsManifestEntry[]): NamedWeight[] {
  try {
    return decodeWeightsInOrder(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
  } catch (cause) {
    throw new CheckpointCorruptError(name, path, `cannot be decoded with its specs (${(cause as Error).message})`, { cause });
  }
}
