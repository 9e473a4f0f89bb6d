import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileDigest } from './durable-fs.js';
import { CheckpointCorruptError } from './errors.js';
import { MODEL_JSON_FILE, WEIGHTS_BIN_FILE } from './node-file-io.js';

/** Name of the manifest file; written last, so its presence marks a finished save. */
export const MANIFEST_FILE = 'checkpoint.json';
/** The other files a checkpoint may hold besides `model.json` and its weights. */
export const STATE_FILE = 'state.json';
export const VARIABLES_JSON_FILE = 'variables.json';
export const VARIABLES_BIN_FILE = 'variables.bin';
export const OPTIMIZER_JSON_FILE = 'optimizer.json';
export const OPTIMIZER_BIN_FILE = 'optimizer.bin';

/** What a checkpoint holds for the model: a LayersModel (`model.json`) or named variables. */
export type CheckpointModelKind = 'layers-model' | 'variables';

/** The manifest of one checkpoint directory. */
export interface CheckpointManifest {
  readonly format: 'trainledger-checkpoint';
  readonly version: 1;
  readonly name: string;
  /** ISO-8601 time the save started. */
  readonly createdAt: string;
  /** `state.iteration` when the state had a finite numeric one. */
  readonly iteration: number | null;
  readonly model: CheckpointModelKind | null;
  /** Class name of the saved optimizer (`optimizer.getClassName()`). */
  readonly optimizer: string | null;
  /** Every other file of the directory with its size and SHA-256. */
  readonly files: Readonly<Record<string, FileDigest>>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks that parsed JSON is a {@link CheckpointManifest}; returns a description of the first
 * problem, or `undefined` when it is well formed.
 *
 * @example
 * ```ts
 * const problem = manifestProblem(JSON.parse(text));
 * if (problem === undefined) use(JSON.parse(text) as CheckpointManifest);
 * ```
 */
export function manifestProblem(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return 'expected a JSON object';
  const m = json as Partial<Record<keyof CheckpointManifest, unknown>>;
  if (m.format !== 'trainledger-checkpoint') return `format is ${JSON.stringify(m.format)}; expected "trainledger-checkpoint"`;
  if (m.version !== 1) return `version is ${JSON.stringify(m.version)}; expected 1`;
  if (typeof m.name !== 'string') return 'has no string "name"';
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) {
    return `createdAt is ${JSON.stringify(m.createdAt)}; expected an ISO-8601 date`;
  }
  if (m.iteration !== null && !(typeof m.iteration === 'number' && Number.isFinite(m.iteration))) {
    return `iteration is ${JSON.stringify(m.iteration)}; expected a number or null`;
  }
  if (m.model !== null && m.model !== 'layers-model' && m.model !== 'variables') {
    return `model is ${JSON.stringify(m.model)}; expected "layers-model", "variables" or null`;
  }
  if (m.optimizer !== null && typeof m.optimizer !== 'string') return `optimizer is ${JSON.stringify(m.optimizer)}; expected a string or null`;
  if (typeof m.files !== 'object' || m.files === null) return 'has no "files" object';
  for (const [file, digest] of Object.entries(m.files)) {
    if (file === MANIFEST_FILE || file.includes('/') || file.includes('\\') || file.startsWith('.')) {
      return `files lists "${file}"; expected plain file names other than ${MANIFEST_FILE}`;
    }
    const d = digest as Partial<FileDigest> | null;
    const ok = typeof d === 'object' && d !== null && Number.isSafeInteger(d.bytes) && (d.bytes as number) >= 0 && typeof d.sha256 === 'string' && SHA256_HEX.test(d.sha256);
    if (!ok) return `files["${file}"] is ${JSON.stringify(digest)}; expected { bytes, sha256 }`;
  }
  return undefined;
}

/** Description of one complete checkpoint. */
export interface CheckpointInfo {
  readonly name: string;
  /** Absolute path of the checkpoint directory. */
  readonly path: string;
  /** `state.iteration`, when the saved state had a finite numeric one. */
  readonly iteration?: number;
  readonly createdAt: Date;
  /** Total size of the checkpoint's files, manifest included. */
  readonly bytes: number;
  readonly model: CheckpointModelKind | null;
  /** Class name of the saved optimizer, or null when none was saved. */
  readonly optimizer: string | null;
}

/**
 * Parses and checks the manifest read from `manifestPath`, including that it lists every file
 * its contents require; anything wrong is {@link CheckpointCorruptError}.
 *
 * @example
 * ```ts
 * const manifest = parseManifestOrThrow('iter-5', path, await readFile(path));
 * ```
 */
export function parseManifestOrThrow(name: string, manifestPath: string, bytes: Buffer): CheckpointManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw new CheckpointCorruptError(name, manifestPath, 'is not valid JSON', { cause });
  }
  const problem = manifestProblem(json);
  if (problem !== undefined) throw new CheckpointCorruptError(name, manifestPath, problem);
  const manifest = json as CheckpointManifest;
  const missing = requiredFiles(manifest).find((file) => !(file in manifest.files));
  if (missing !== undefined) throw new CheckpointCorruptError(name, manifestPath, `does not list ${missing}, which its contents require`);
  return manifest;
}

/**
 * The checkpoint at `path` when its manifest is well formed and every file has the recorded
 * size, else `undefined`; checksums are left to a load.
 *
 * @example
 * ```ts
 * const info = inspectSync('/runs/ckpt/iter-5', 'iter-5');
 * ```
 */
export function inspectSync(path: string, name: string): CheckpointInfo | undefined {
  try {
    const manifestBytes = readFileSync(join(path, MANIFEST_FILE));
    const json: unknown = JSON.parse(manifestBytes.toString('utf8'));
    if (manifestProblem(json) !== undefined) return undefined;
    const manifest = json as CheckpointManifest;
    if (requiredFiles(manifest).some((file) => !(file in manifest.files))) return undefined;
    for (const [file, digest] of Object.entries(manifest.files)) {
      if (statSync(join(path, file)).size !== digest.bytes) return undefined;
    }
    return infoFrom({ ...manifest, name }, path, manifestBytes.byteLength);
  } catch {
    // Unreadable or unparsable manifest or a missing file: not a complete checkpoint.
    return undefined;
  }
}

/**
 * The {@link CheckpointInfo} of a manifest, its size counted in.
 *
 * @example
 * ```ts
 * const info = infoFrom(manifest, '/runs/ckpt/iter-5', manifestText.length);
 * ```
 */
export function infoFrom(manifest: CheckpointManifest, path: string, manifestBytes: number): CheckpointInfo {
  const bytes = Object.values(manifest.files).reduce((sum, d) => sum + d.bytes, manifestBytes);
  const base = { name: manifest.name, path, createdAt: new Date(manifest.createdAt), bytes, model: manifest.model, optimizer: manifest.optimizer };
  return manifest.iteration === null ? base : { ...base, iteration: manifest.iteration };
}

function requiredFiles(manifest: CheckpointManifest): string[] {
  const files = [STATE_FILE];
  if (manifest.model === 'layers-model') files.push(MODEL_JSON_FILE, WEIGHTS_BIN_FILE);
  if (manifest.model === 'variables') files.push(VARIABLES_JSON_FILE, VARIABLES_BIN_FILE);
  if (manifest.optimizer !== null) files.push(OPTIMIZER_JSON_FILE, OPTIMIZER_BIN_FILE);
  return files;
}
