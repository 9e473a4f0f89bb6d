/**
 * TensorBoard event files: CRC-32C, TFRecord framing, the `tensorflow.Event` subset trainledger
 * uses, and a buffered, deterministic writer plus a verifying reader.
 *
 * @example
 * ```ts
 * import { EventFileWriter, readEventFile } from './writers/tensorboard/index.js';
 * const writer = new EventFileWriter('runs/exp1');
 * writer.writeScalars(1, Date.now() / 1000, [['loss', 0.25]]);
 * writer.close();
 * readEventFile(writer.path); // [{ kind: 'fileVersion', ... }, { kind: 'summary', ... }]
 * ```
 */
export { crc32c, maskCrc32c, maskedCrc32c } from './crc32c.js';
export { EventFileClosedError, EventFileExistsError, TfEventsFormatError, type TfEventsFormatReason } from './errors.js';
export { decodeEventFile, readEventFile } from './event-file-reader.js';
export { EventFileWriter, type EventFileWriterOptions } from './event-file-writer.js';
export {
  TF_EVENT_FILE_VERSION,
  TfSessionStatus,
  type TfEvent,
  type TfEventBase,
  type TfFileVersionEvent,
  type TfHistogram,
  type TfImage,
  type TfPluginData,
  type TfOtherEvent,
  type TfSessionLogEvent,
  type TfSummaryEvent,
  type TfSummaryValue,
} from './tf-event.js';
export { decodeTfEvent, encodeTfEvent } from './tf-event-codec.js';
export { encodePng } from './png.js';
export { flattenHParams, hparamsSessionStart, HPARAMS_PLUGIN_NAME, HPARAMS_SESSION_START_TAG, type HParamValue } from './hparams.js';
export {
  TF_RECORD_HEADER_SIZE,
  TF_RECORD_OVERHEAD,
  frameTfRecord,
  readTfRecords,
  writeTfRecord,
  type TfRecord,
} from './tf-record.js';
