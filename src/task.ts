/**
 * The five statuses of the seed. `progress` is shown as "In progress". A task's life:
 *   queued → progress (claimed) → completed | failed | cancelled, or → queued again (a retry);
 *   queued → cancelled; an ended task → queued (requeue).
 * Every write after a claim is fenced by the claim's token (storage/fencing.ts).
 */
export const STATUSES = ['queued', 'progress', 'completed', 'failed', 'cancelled'] as const
export type Status = (typeof STATUSES)[number]

/** Statuses a task is still in the queue's hands: waiting or running. A key is held only by these. */
export const ACTIVE_STATUSES = ['queued', 'progress'] as const satisfies readonly Status[]
export type ActiveStatus = (typeof ACTIVE_STATUSES)[number]

/** Statuses a task never leaves by itself; only `requeue` sends it back to `queued`. */
export const TERMINAL_STATUSES = ['completed', 'failed', 'cancelled'] as const satisfies readonly Status[]
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number]

/** The ended statuses that throughput counts: runs that finished, not the ones cancelled. */
export const FINISHED_STATUSES = ['completed', 'failed'] as const satisfies readonly Status[]

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value)
}

export function isTerminal(status: Status): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly Status[]).includes(status)
}

export function statusLabel(status: Status): string {
  return status === 'progress' ? 'In progress' : status[0].toUpperCase() + status.slice(1)
}

/** A count per status, every status present: the zero every tally starts from. */
export function zeroCounts(): Record<Status, number> {
  return { queued: 0, progress: 0, completed: 0, failed: 0, cancelled: 0 }
}

/** Structured progress a task may yield: `{ progress: { current, total, message } }`. */
export interface Progress {
  current?: number
  total?: number
  message?: string
}

export type TaskArgs = Record<string, unknown>
