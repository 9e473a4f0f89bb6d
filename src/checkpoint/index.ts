export * from './errors.js';
export { CheckpointStore } from './checkpoint-store.js';
export type { CheckpointContent, CheckpointTarget } from './checkpoint-store.js';
export type { CleanTempResult } from './atomic-folder.js';
export type { CheckpointModel } from './model-restore.js';
export { MANIFEST_FILE } from './checkpoint-manifest.js';
export type { CheckpointInfo, CheckpointManifest, CheckpointModelKind } from './checkpoint-manifest.js';
export { MODEL_JSON_FILE, WEIGHTS_BIN_FILE, nodeFileIO, registerFileScheme } from './node-file-io.js';
