/** Where a command writes: one call per line (tests pass arrays, the binary stdout and stderr). */
export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}
