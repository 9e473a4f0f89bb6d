import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** Size and SHA-256 of a file's bytes, as recorded in checkpoint manifests. */
export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Writes `data` to `path` (replacing it) and fsyncs it before returning, so the bytes are on
 * disk when a later step (a manifest, a rename) vouches for them.
 *
 * @example
 * ```ts
 * await writeFileDurable('/tmp/ckpt/state.json', JSON.stringify({ iteration: 3 }));
 * ```
 */
export async function writeFileDurable(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Fsyncs a directory so that entries created or renamed in it survive a crash.
 * Platforms that cannot open directories (Windows) make this a no-op.
 *
 * @example
 * ```ts
 * await rename(tmp, final);
 * await fsyncDirectory(dirname(final));
 * ```
 */
export async function fsyncDirectory(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    // Windows refuses to open/sync directories; POSIX may reject fsync on some filesystems.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Returns the size and SHA-256 of `data`.
 *
 * @example
 * ```ts
 * const { bytes, sha256 } = digestBytes(await readFile(path));
 * ```
 */
export function digestBytes(data: Uint8Array): FileDigest {
  return { bytes: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
}

/**
 * Fsyncs an existing file and returns its size and SHA-256, reading it in chunks so large weight
 * files are not held in memory twice.
 *
 * @example
 * ```ts
 * const digest = await syncAndDigestFile('/tmp/ckpt/weights.bin');
 * ```
 */
export async function syncAndDigestFile(path: string): Promise<FileDigest> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(1 << 20);
    let bytes = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, bytes);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}
