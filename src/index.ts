/**
 * trainledger's public API, kept by hand: everything exported here is supported; anything else
 * is internal and may change. Charts (`trainledger/plot`), the MNIST demo (`trainledger/demo`)
 * and the command line (`trainledger/cli`) are entries of their own, so that a trainer loads
 * none of their packages.
 */

// Errors
export { TrainledgerError, InvalidArgumentError } from './errors/trainledger-error.js';

// Events: what the log records
export { event, EVENT_VERSIONS } from './events/train-event.js';
export type * from './events/train-event.js';

// Storage: EventStorage as a fold of events
export { EventStorage } from './storage/event-storage.js';
export { UnknownMetricError, StorageClosedError, SmoothingHintMismatchError, EmptyHistoryError } from './storage/errors.js';
export { latestOf, latestWithSmoothingHintOf, historyOf } from './storage/state-queries.js';
export type { EventStorageOptions } from './storage/event-storage.js';
export type { ImageInput } from './storage/image-input.js';
export { evolve, evolveAll } from './storage/evolve.js';
export { HistoryBuffer } from './storage/history-buffer.js';
export { initialState } from './storage/storage-state.js';
export type { StorageState, RunInfoState, MetricsTable, RunStatus } from './storage/storage-state.js';
export { computeHistogram, type HistogramSummary } from './storage/histogram.js';

// The log
export { LogFile, type RunRecord, type StoredBatch, type LogOpenOptions } from './log/log-file.js';
export { LogAppender } from './log/log-appender.js';
export type { Durability, LogAppenderOptions } from './log/appender-options.js';
export type { EventSink } from './storage/event-sink.js';
export { replayRun, type ReplayOptions, type ReplayResult } from './log/replay.js';
export { SnapshotCache } from './log/snapshot-cache.js';
export { computeTimeline, type Rewind, type SeqRange } from './log/timeline.js';
export { decodeBatch } from './log/batch-codec.js';
export { LogNotFoundError } from './log/errors.js';
export { NotALogError, LogCorruptError, LogVersionError, UnknownRunError, LogWriteError, LogClosedError, ProjectionWriteError } from './log/errors.js';
export { RunLiveError } from './log/errors.js';

// The engine
export { TrainerBase, type TrainerOptions } from './engine/trainer-base.js';
export type { LoopState } from './engine/loop-state.js';
export type { ReactiveHook } from './engine/reactive-hook.js';
export type { HookHandle, HookRegistration } from './engine/hook-registry.js';
export type { TrainerStateDict, OptimizerWeightState } from './engine/state-dict.js';
export { SimpleTrainer, type SimpleTrainerOptions, type TrainableModel, type LossFn, type Losses } from './engine/simple-trainer.js';
export type { ResumeOrLoadOptions } from './engine/resume-or-load.js';
export { HookBase, type HookResult } from './engine/hook-base.js';
export type { LifecycleEvent, LifecycleEventType, LifecycleEventOf } from './engine/lifecycle-event.js';
export {
  NonFiniteLossError,
  EmptyTrainingRangeError,
  HookError,
  HookTimeoutError,
  DataExhaustedError,
  TrainerBusyError,
  NoValidCheckpointError,
  BackendUnavailableError,
  type TriedCheckpoint,
} from './engine/errors.js';
export { localComm, type Comm } from './engine/comm.js';
export { launch, type LaunchSpec, type LaunchOptions } from './parallel/launch.js';
export { GroupComm } from './parallel/group-comm.js';
export { shardBatches } from './parallel/shard-batches.js';
export { CommAbortedError, CommMismatchError, CommTimeoutError, RankFailedError } from './parallel/errors.js';
export { selectBackend, type BackendChoice, type BackendSelection } from './engine/backend.js';

// Operators for reactive hooks
export { every, once, before, after, between, ofType } from './operators/index.js';

// Hooks
export * from './hooks/index.js';
export * from './schedules/index.js';

// Writers
export type { MetricWriter, WriterCursor, WriterSpec } from './projections/metric-writer.js';
export { JSONWriter } from './writers/json-writer.js';
export { CSVWriter } from './writers/csv-writer.js';
export { TensorBoardWriter } from './writers/tensorboard-writer.js';
export { CommonMetricPrinter } from './writers/common-metric-printer.js';
export { replayWriters, recordedWriterIds } from './projections/replay-writers.js';
export { projectionObserver } from './projections/log-projections.js';
export type { CommitObserver, CommitObserverSpec, CommitObserverContext } from './log/commit-observer.js';
export { EventFileWriter, readEventFile } from './writers/tensorboard/index.js';

// Checkpoints, data, wasm training kernels
export * from './checkpoint/index.js';
export { Mulberry32, mixSeed, permutation, shuffleInPlace, ShuffledBatches, DatasetError, type Batch, type BatchPosition, type ShuffledBatchesOptions } from './data/index.js';
export { enableWasmTraining, disableWasmTraining, wasmTrainingKernelNames } from './backends/wasm/index.js';

// Utilities
export { consoleLogger, memoryLogger, type Logger } from './util/logger.js';
