/**
 * The commit thread's one extension point: a module it loads at start, which sees every batch
 * just before it commits and may give a body to commit in its place. Metric-writer projections
 * (`src/projections/`) are the observer trainledger ships; the log knows nothing else about them,
 * which keeps `log/` free of writers.
 *
 * @example
 * ```ts
 * // In the module named by the spec:
 * export async function loadObserver(args: unknown, context: CommitObserverContext): Promise<CommitObserver> {
 *   return { name() {}, batch: () => null, close() {} };
 * }
 * const spec: CommitObserverSpec = { module: import.meta.url, exportName: 'loadObserver', args: null };
 * ```
 */
export interface CommitObserverSpec {
  /** URL of the module (usually its `import.meta.url`). */
  readonly module: string;
  /** Name of its export: `(args, context) => CommitObserver | Promise<CommitObserver>`. */
  readonly exportName: string;
  /** Structured-clonable arguments passed to it on the commit thread. */
  readonly args: unknown;
}

/** What an observer is told about the run it observes. */
export interface CommitObserverContext {
  readonly path: string;
  readonly runId: number;
  /** Names the run already defined, by id (a resumed run). */
  readonly names: readonly string[];
  /** Reports a failure of the observer; the log goes on committing without it. */
  readonly onError: (message: string) => void;
}

/** Sees each batch of the run on the commit thread, in order, before it commits. */
export interface CommitObserver {
  /** A metric name the run defined (id order), before the first batch that uses it. */
  name(id: number, name: string): void;
  /** One batch body; returns the body to commit in its place, or null to commit it as it is. */
  batch(body: Uint8Array): Uint8Array | null;
  close(): void;
}

type ObserverFactory = (args: unknown, context: CommitObserverContext) => CommitObserver | Promise<CommitObserver>;

/**
 * Imports the module a spec names and builds its observer.
 *
 * @example
 * ```ts
 * const observer = await loadCommitObserver(spec, { path, runId: 1, names: [], onError: console.error });
 * ```
 */
export async function loadCommitObserver(spec: CommitObserverSpec, context: CommitObserverContext): Promise<CommitObserver> {
  let factory: unknown;
  try {
    factory = ((await import(spec.module)) as Record<string, unknown>)[spec.exportName];
  } catch (e) {
    throw new Error(`cannot load the commit observer ${spec.exportName} from ${spec.module}: ${(e as Error).message}`);
  }
  if (typeof factory !== 'function') throw new Error(`${spec.module} exports no function named ${spec.exportName}`);
  return (factory as ObserverFactory)(spec.args, context);
}
