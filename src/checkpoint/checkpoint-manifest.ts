import type { FileDigest } from './durable-fs.js';

/** Name of the manifest file; written last, so its presence marks a finished save. */
export const MANIFEST_FILE = 'checkpoint.json';

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
