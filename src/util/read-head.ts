import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The first `n` bytes of a file (fewer when it is shorter), without reading the rest: what
 * recognising a file by its header needs.
 *
 * @example
 * ```ts
 * readHead('runs/demo.sqlite', 16).toString('latin1'); // 'SQLite format 3\0'
 * ```
 */
export function readHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    for (let r = -1; r !== 0 && got < n; got += r) r = readSync(fd, buf, got, n - got, got);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
