type Write = NodeJS.WriteStream['write'];

/** Whether a chunk given to `write` ends a line. */
function endsLine(chunk: unknown): boolean {
  if (typeof chunk === 'string') return chunk.endsWith('\n');
  if (chunk instanceof Uint8Array) return chunk.length > 0 && chunk[chunk.length - 1] === 0x0a;
  return false;
}

/** The callback a `write(chunk, [encoding], [cb])` call was given, if any. */
function callbackOf(args: readonly unknown[]): (() => void) | undefined {
  const last = args[args.length - 1];
  return typeof last === 'function' ? (last as () => void) : undefined;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * Keeps a status line (the progress bar) on the last line of a terminal while other code writes
 * lines to it (a metric printer, loggers, `console.log`): every write to the terminal's streams
 * first clears the status line, and once a line is complete the status line is drawn again
 * below it, so no line is ever drawn over another. A line written in parts holds the status
 * line back until its newline arrives.
 *
 * The status line's renderer writes through `statusStream`; everyone else keeps writing to
 * `process.stdout`/`process.stderr`, whose `write` is wrapped between `install` and `uninstall`
 * (only streams that are TTYs: a file or pipe gets no control codes and nothing changes).
 *
 * @example
 * ```ts
 * const lines = new TerminalLines(process.stderr, [process.stdout, process.stderr]);
 * lines.install(() => bar.redraw());
 * // … bar renders to lines.statusStream …
 * lines.uninstall();
 * ```
 */
export class TerminalLines {
  /** Where the status line is drawn; writes to it that are not the status line's are guarded too. */
  readonly statusStream: NodeJS.WriteStream;
  readonly #terminal: NodeJS.WriteStream;
  readonly #terminalWrite: Write;
  readonly #shared: readonly NodeJS.WriteStream[];
  /** Each wrapped stream's own `write` property before `install` (undefined: it had none). */
  readonly #saved = new Map<NodeJS.WriteStream, PropertyDescriptor | undefined>();
  #redraw: () => void = () => {};
  /** The status line is on screen (drawn and not cleared since). */
  #shown = false;
  /** Another writer has started a line it has not ended yet. */
  #open = false;
  #installed = false;

  /**
   * @param terminal the stream the status line is drawn on
   * @param shared other streams that write to the same terminal (those that are TTYs are guarded)
   */
  constructor(terminal: NodeJS.WriteStream, shared: readonly NodeJS.WriteStream[]) {
    this.#terminal = terminal;
    // The stream's own write, bound before install wraps it: the status line goes straight out.
    this.#terminalWrite = terminal.write;
    this.#shared = [...new Set([terminal, ...shared])].filter((s) => s.isTTY === true);
    const status = (chunk: unknown, ...rest: unknown[]): boolean => {
      if (this.#open) {
        // Held back: the other writer's line would be cut in two.
        const cb = callbackOf(rest);
        if (cb) queueMicrotask(cb);
        return true;
      }
      this.#shown = true;
      return (this.#terminalWrite as (...a: unknown[]) => boolean).call(terminal, chunk, ...rest);
    };
    // Everything else (isTTY, columns, events) is the terminal's own.
    this.statusStream = Object.create(terminal, { write: { value: status, configurable: true, writable: true } }) as NodeJS.WriteStream;
  }

  /** Wraps the shared streams' `write`; `redraw` draws the status line again (after a line). */
  install(redraw: () => void): void {
    if (this.#installed) return;
    this.#installed = true;
    this.#redraw = redraw;
    for (const stream of this.#shared) {
      const own = Object.getOwnPropertyDescriptor(stream, 'write');
      this.#saved.set(stream, own);
      const write = stream.write;
      const guarded = (chunk: unknown, ...rest: unknown[]): boolean => this.#guarded(stream, write, chunk, rest);
      Object.defineProperty(stream, 'write', { value: guarded, configurable: true, writable: true });
    }
  }

  /** Ends a line left open (so the status line's last frame stays whole) and restores the streams. */
  uninstall(): void {
    if (!this.#installed) return;
    if (this.#open) {
      this.#open = false;
      (this.#terminalWrite as (s: string) => boolean).call(this.#terminal, '\n');
    }
    for (const [stream, own] of this.#saved) {
      if (own) Object.defineProperty(stream, 'write', own);
      else delete (stream as { write?: unknown }).write;
    }
    this.#saved.clear();
    this.#installed = false;
  }

  #guarded(stream: NodeJS.WriteStream, write: Write, chunk: unknown, rest: unknown[]): boolean {
    if (this.#shown && !this.#open) {
      (this.#terminalWrite as (s: string) => boolean).call(this.#terminal, CLEAR_LINE);
      this.#shown = false;
    }
    const result = (write as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    if (endsLine(chunk)) {
      this.#open = false;
      this.#redraw();
    } else if (typeof chunk === 'string' ? chunk.length > 0 : chunk instanceof Uint8Array && chunk.length > 0) {
      this.#open = true;
    }
    return result;
  }
}
