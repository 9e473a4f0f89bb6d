import type { CommitObserver } from '../../src/log/commit-observer.js';

/** A commit observer that throws from its first batch: a bug in an observer the log loads. */
export function explodingObserver(): CommitObserver {
  return {
    name() {},
    batch() {
      throw new Error('observer exploded');
    },
    close() {},
  };
}
