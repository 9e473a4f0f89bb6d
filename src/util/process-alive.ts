/**
 * Whether a process with this pid exists on this host (signal 0 probes without signalling).
 * Used to tell a live writer's lease or a checkpoint lock from one a crash left behind.
 *
 * @example
 * ```ts
 * processIsAlive(process.pid); // true
 * ```
 */
export function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
