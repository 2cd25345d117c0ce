import type { Queue } from '../../src/queue/queue.js'
import { waitForEnd } from '../../src/queue/wait.js'
import type { Status, Task } from '../../src/types.js'
import { formatDuration } from '../../ui/format.js'

/** How long `--wait` lets a task sit with no live worker for its queue before saying so a second time. */
export const NO_WORKER_REMINDER_MS = 15_000

/**
 * `sq enqueue --wait`: follows the task to its end (waitForEnd), and never leaves a script (cron, CI)
 * hanging silently. On stderr, so stdout stays the task's output: the id when waiting starts; a warning
 * when no live worker takes tasks from its queue, and again if none has appeared NO_WORKER_REMINDER_MS
 * later; at `timeoutMs` (--wait-timeout) or Ctrl-C, a WaitStoppedError saying what the task was left as.
 */
export async function waitForTask(
  queue: Queue,
  task: { id: string; queue: string },
  onOutput: (text: string) => void,
  o: { timeout?: { ms: number; text: string } } = {},
): Promise<Task> {
  const { id } = task
  // Ctrl-C is ours before the line that tells a script (or a person) that waiting has begun: a SIGINT
  // that came between the two would find Node's default and kill the process without a word.
  const interrupt = new AbortController()
  const onInterrupt = () => interrupt.abort()
  process.on('SIGINT', onInterrupt)
  const say = (text: string) => process.stderr.write(`${text}\n`)
  say(`waiting for task ${id}`)
  let status: Status = 'queued'
  let reminder: NodeJS.Timeout | undefined
  // Whether a worker serves the queue is a warning, never a reason to fail: an error here is ignored.
  let over = false
  const unserved = async () =>
    status === 'queued' && (await queue.workersServing(task.queue).catch(() => 1)) === 0 && !over
  const where = `queue "${task.queue}"`
  void unserved().then((none) => {
    if (!none) return
    say(`warning: no live worker takes tasks from ${where}: task ${id} stays queued until one starts`)
    if (over) return
    reminder = setTimeout(async () => {
      if (await unserved())
        say(`warning: still no live worker for ${where} after ${formatDuration(NO_WORKER_REMINDER_MS)}`)
    }, NO_WORKER_REMINDER_MS)
  })
  try {
    return await waitForEnd(queue, id, {
      onOutput,
      signal: interrupt.signal,
      timeout: o.timeout?.ms,
      timeoutText: o.timeout && `${o.timeout.text} (--wait-timeout)`,
      onStatus: (s) => (status = s),
    })
  } finally {
    over = true
    process.off('SIGINT', onInterrupt)
    clearTimeout(reminder)
  }
}
