import type { TaskRecord } from './storage/task-row.js'

/**
 * Terminology
 *
 * - task: one row of the queue — a reference to a function plus its args object, and what became of it.
 * - reference: `<module>#<export>`; the module path is relative to the root (or a package name).
 * - root: the directory task references are resolved against (default: the current directory).
 * - worker: a `sq worker` process; it claims tasks and runs each one in a child process it owns.
 * - claim: the atomic move of a runnable task from `queued` to `progress` by exactly one worker.
 * - attempt: the number of times a task has been claimed. It doubles as the claim's fencing token:
 *   every write made for a run carries it, so a run that lost its claim cannot change the task.
 */

/**
 * The five statuses of the seed. `progress` is shown as "In progress". A task's life:
 *   queued → progress (claimed) → completed | failed | cancelled, or → queued again (a retry);
 *   queued → cancelled; an ended task → queued (requeue).
 * Every write after a claim is fenced by the claim's attempt (storage/run-repository.ts).
 */
export const STATUSES = ['queued', 'progress', 'completed', 'failed', 'cancelled'] as const
export type Status = (typeof STATUSES)[number]

/** Statuses a task never leaves by itself; only `requeue` sends it back to `queued`. */
export const TERMINAL_STATUSES: readonly Status[] = ['completed', 'failed', 'cancelled']

export function isStatus(value: string): value is Status {
  return (STATUSES as readonly string[]).includes(value)
}

export function isTerminal(status: Status): boolean {
  return TERMINAL_STATUSES.includes(status)
}

export function statusLabel(status: Status): string {
  return status === 'progress' ? 'In progress' : status[0].toUpperCase() + status.slice(1)
}

/** Structured progress a task may yield: `{ progress: { current, total, message } }`. */
export interface Progress {
  current?: number
  total?: number
  message?: string
}

export type TaskArgs = Record<string, unknown>

/**
 * The task record, with the SPEC's field names; this is what `--json` prints. Its fields are derived
 * from the one definition of the task row (storage/task-row.ts, TASK_COLUMNS).
 */
export type Task = TaskRecord

/** A live (or recently seen) worker process, as registered in the database. */
export interface WorkerInfo {
  id: string
  name: string
  host: string
  pid: number
  queues: string[]
  concurrency: number
  running: number
  started: string
  last_heartbeat: string
}
