import { setTimeout as sleep } from 'node:timers/promises'
import { redactSecrets } from '../redact.js'
import { isUnreachable } from '../storage/unreachable.js'

/** Backoff between tries: 0.5 s doubling to 10 s. */
const FIRST_WAIT_MS = 500
const LONGEST_WAIT_MS = 10_000

/**
 * Opens the database for a worker, waiting while it is unreachable (a restart, a failover): workers
 * started by systemd or Kubernetes must not die in a loop meanwhile. What waiting cannot fix is thrown;
 * undefined when `stop` aborts the wait.
 */
export async function waitForDatabase<T>(
  open: () => Promise<T>,
  log: (line: string) => void,
  stop: AbortSignal,
): Promise<T | undefined> {
  for (let attempt = 1; !stop.aborted; attempt++) {
    try {
      return await open()
    } catch (error) {
      if (!isUnreachable(error)) throw error
      const waitMs = Math.min(FIRST_WAIT_MS * 2 ** (attempt - 1), LONGEST_WAIT_MS)
      log(
        `database unreachable (try ${attempt}): ${redactSecrets((error as Error).message)}; trying again in ${(waitMs / 1000).toFixed(1)}s`,
      )
      await sleep(waitMs, undefined, { signal: stop }).catch(() => undefined)
    }
  }
  return undefined
}
