export * from './errors.js';
export { CheckpointStore } from './checkpoint-store.js';
export type { CheckpointContent, CheckpointInfo, CheckpointModel, CheckpointTarget, CleanTempResult } from './checkpoint-store.js';
export { MANIFEST_FILE } from './checkpoint-manifest.js';
export type { CheckpointManifest, CheckpointModelKind } from './checkpoint-manifest.js';
export { MODEL_JSON_FILE, WEIGHTS_BIN_FILE, nodeFileIO, registerFileScheme } from './node-file-io.js';
