import { UsageError } from '../errors.js'

/** A queue's pause state, as `sq pause`/`sq resume --json` print it. */
export interface QueueState {
  queue: string
  paused: boolean
  /** When it was paused; null when it is not. */
  paused_at: string | null
}

/** The one rule for a queue's name, wherever one is given. */
export function checkQueueName(queue: string): void {
  if (!/^[\w.-]+$/.test(queue)) throw new UsageError(`queue name "${queue}" may hold only letters, digits, _ . and -`)
}
