import { setTimeout as sleep } from 'node:timers/promises'
import { WaitStoppedError } from '../../src/errors.js'
import type { Queue } from '../../src/queue/queue.js'
import type { Status, Task } from '../../src/types.js'
import { formatDuration } from '../../ui/format.js'

/** How long `--wait` lets a task sit with no live worker for its queue before saying so a second time. */
export const NO_WORKER_REMINDER_MS = 15_000

/**
 * `sq enqueue --wait`: follows the task to its end, and never leaves a script (cron, CI) hanging
 * silently. On stderr, so stdout stays the task's output: the id when waiting starts; a warning when no
 * live worker takes tasks from its queue, and again if none has appeared NO_WORKER_REMINDER_MS later;
 * at `timeoutMs` (--wait-timeout) or Ctrl-C, a WaitStoppedError saying what the task was left as.
 */
export async function waitForTask(
  queue: Queue,
  task: { id: string; queue: string },
  onOutput: (text: string) => void,
  o: { timeout?: { ms: number; text: string } } = {},
): Promise<Task> {
  const { id } = task
  const say = (text: string) => process.stderr.write(`${text}\n`)
  say(`waiting for task ${id}`)
  let status: Status = 'queued'
  const stop = new AbortController()
  let stoppedBy: 'timeout' | 'interrupt' | undefined
  const stopWaiting = (by: 'timeout' | 'interrupt') => {
    stoppedBy ??= by
    stop.abort()
  }
  const onInterrupt = () => stopWaiting('interrupt')
  process.on('SIGINT', onInterrupt)
  const timers: NodeJS.Timeout[] = []
  if (o.timeout) timers.push(setTimeout(() => stopWaiting('timeout'), o.timeout.ms))
  // Whether a worker serves the queue is a warning, never a reason to fail: an error here is ignored.
  let over = false
  const unserved = async () =>
    status === 'queued' && (await queue.workersServing(task.queue).catch(() => 1)) === 0 && !over
  const where = `queue "${task.queue}"`
  void unserved().then((none) => {
    if (!none) return
    say(`warning: no live worker takes tasks from ${where}: task ${id} stays queued until one starts`)
    const reminder = setTimeout(async () => {
      if (await unserved())
        say(`warning: still no live worker for ${where} after ${formatDuration(NO_WORKER_REMINDER_MS)}`)
    }, NO_WORKER_REMINDER_MS)
    if (over) clearTimeout(reminder)
    else timers.push(reminder)
  })
  try {
    return await queue.follow(id, onOutput, { signal: stop.signal, onStatus: (s) => (status = s) })
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
      ? new WaitStoppedError(`gave up waiting after ${o.timeout!.text} (--wait-timeout): ${left}`, {
          interrupted: false,
        })
      : new WaitStoppedError(`stopped waiting: ${left}`, { interrupted: true })
  } finally {
    over = true
    process.off('SIGINT', onInterrupt)
    for (const timer of timers) clearTimeout(timer)
  }
}
