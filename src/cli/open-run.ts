import { LogFile } from '../log/log-file.js';
import { TrainledgerError } from '../errors/trainledger-error.js';
import { UnknownRunError } from '../log/errors.js';

/** Help text of every `--run` option. */
export const RUN_HELP = 'run id or name (default: the last run); a digit string is an id: say id:N or name:NAME to choose (a run named "1" is name:1)';

/** Opens `path` read-only and picks the run `ref` names (the last run when none); closes the log if that fails. */
export function openRun(path: string, ref: string | undefined): { log: LogFile; runId: number } {
  const log = LogFile.open(path, { readonly: true });
  try {
    const runs = log.runs();
    if (ref === undefined) {
      const last = runs.at(-1);
      if (!last) throw new UnknownRunError(`${path} has no runs yet`);
      return { log, runId: last.id };
    }
    return { log, runId: log.run(ref).id };
  } catch (e) {
    log.close();
    throw e;
  }
}

// A log that is being created is briefly no log yet (no schema, a header not yet written out).
const NOT_YET_A_LOG_GRACE_MS = 5000;

/** Codes of the errors that mean "not there yet": the log is not created, or the run not started. */
export const NOT_YET = new Set(['ERR_LOG_NOT_FOUND', 'ERR_UNKNOWN_RUN']);

/**
 * `openRun` that waits, polling, until the log exists and has the run (`tail --wait`); `onWait`
 * is told, once per reason, what it is waiting for.
 */
export async function openRunWaiting(path: string, ref: string | undefined, interval: number, onWait: (what: string) => void = () => {}): Promise<{ log: LogFile; runId: number }> {
  let notALogSince: number | null = null;
  let told: string | null = null;
  for (;;) {
    let what: string;
    try {
      return openRun(path, ref);
    } catch (e) {
      const code = e instanceof TrainledgerError ? e.code : null;
      const beingCreated = code === 'ERR_NOT_A_LOG' || code === 'ERR_LOG_CORRUPT';
      if (beingCreated) {
        notALogSince ??= Date.now();
        if (Date.now() - notALogSince > NOT_YET_A_LOG_GRACE_MS) throw e;
      }
      if (beingCreated || code === 'ERR_LOG_NOT_FOUND') what = `${path} to be created`;
      else if (code === 'ERR_UNKNOWN_RUN') what = ref === undefined ? `a run in ${path}` : `run ${JSON.stringify(ref)} in ${path}`;
      else throw e;
    }
    if (what !== told) onWait(what);
    told = what;
    await sleep(interval);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
