import { UsageError } from '../errors.js'
import type { Backend } from '../storage/backend.js'
import * as pauses from '../storage/pause-repository.js'

/** A queue's pause state, as `sq pause`/`sq resume --json` print it. */
export interface QueueState {
  queue: string
  paused: boolean
  /** When it was paused; null when it is not. */
  paused_at: string | null
}

export function checkQueueName(queue: string): void {
  if (!/^[\w.-]+$/.test(queue)) throw new UsageError(`queue name "${queue}" may hold only letters, digits, _ . and -`)
}

/**
 * Pauses a queue: workers claim none of its tasks until it is resumed (within a second; a task already
 * running goes on). Idempotent. A queue need not have tasks to be paused.
 */
export async function pauseQueue(backend: Backend, queue: string): Promise<QueueState> {
  checkQueueName(queue)
  const row = await pauses.pauseQueue(backend, queue)
  return { queue, paused: true, paused_at: row.paused_at }
}

/** Resumes a queue; idempotent. Idle workers are woken at once. */
export async function resumeQueue(backend: Backend, queue: string): Promise<QueueState> {
  checkQueueName(queue)
  await pauses.resumeQueue(backend, queue)
  return { queue, paused: false, paused_at: null }
}
