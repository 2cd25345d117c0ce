import { setTimeout as sleep } from 'node:timers/promises'
import { WaitStoppedError } from '../errors.js'
import type { Status, Task } from '../types.js'
import type { Queue } from './queue.js'

/** How Queue.wait waits: what it stops at, and where the output goes meanwhile. */
export interface WaitOptions {
  /** Milliseconds to wait at most; then a WaitStoppedError (`timedOut`), the task left as it is. */
  timeout?: number
  /** Stops waiting when aborted: a WaitStoppedError, the task left as it is. */
  signal?: AbortSignal
  /** Each new piece of the task's output, as it grows. */
  onOutput?: (text: string) => void
}

/** Follows a task to its end; at the timeout or the signal, a WaitStoppedError saying what it was left as. */
export async function waitForEnd(
  queue: Queue,
  id: string,
  o: WaitOptions & { timeoutText?: string; onStatus?: (status: Status) => void } = {},
): Promise<Task> {
  let status: Status = 'queued'
  const stop = new AbortController()
  let stoppedBy: 'timeout' | 'signal' | undefined
  const stopWaiting = (by: 'timeout' | 'signal') => {
    stoppedBy ??= by
    stop.abort()
  }
  const onAbort = () => stopWaiting('signal')
  if (o.signal?.aborted) onAbort()
  o.signal?.addEventListener('abort', onAbort, { once: true })
  const timer = o.timeout === undefined ? undefined : setTimeout(() => stopWaiting('timeout'), o.timeout)
  try {
    return await queue.follow(id, o.onOutput ?? (() => {}), {
      signal: stop.signal,
      onStatus: (s) => {
        status = s
        o.onStatus?.(s)
      },
    })
  } catch (error) {
    if (!stoppedBy) throw error
    // Read again: the last poll may be a moment old (a worker may just have claimed the task). A second
    // at most, so a database that hangs cannot hold Ctrl-C.
    const now = await Promise.race([
      queue.get(id).then((t) => t.status),
      sleep(1000, undefined, { ref: false }).then(() => status),
    ]).catch(() => status)
    const left =
      now === 'queued'
        ? `task ${id} is still queued: a worker will still run it (sq cancel ${id} drops it)`
        : now === 'progress'
          ? `task ${id} is still running (sq show --follow ${id} follows it, sq cancel ${id} stops it)`
          : `task ${id} ended ${now} meanwhile (sq show ${id})`
    throw stoppedBy === 'timeout'
      ? new WaitStoppedError(`gave up waiting after ${o.timeoutText ?? `${o.timeout} ms`}: ${left}`, {
          interrupted: false,
        })
      : new WaitStoppedError(`stopped waiting: ${left}`, { interrupted: true })
  } finally {
    clearTimeout(timer)
    o.signal?.removeEventListener('abort', onAbort)
  }
}
