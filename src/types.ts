import type { TaskRunsTable, WorkersTable } from './storage/schema.js'
import type { TaskRecord } from './storage/task-row.js'

/**
 * Terminology
 *
 * - task: one row of the queue — a reference to a function plus its args object, and what became of it.
 * - reference: `<module>#<export>`; the module path is relative to the root (or a package name).
 * - root: the directory task references are resolved against (default: the current directory).
 * - worker: a `sq worker` process; it claims tasks and runs each one in a child process it owns.
 * - claim: the atomic move of a runnable task from `queued` to `progress` by exactly one worker.
 * - attempt: a run the task has spent, what `max_attempts` counts. A run given back (its worker stopped,
 *   or never received its claim) spends none.
 * - claim token: the task's claim counter, which every claim raises and nothing lowers: the fencing
 *   token of a run. Every write made for a run carries it, so a run that lost its claim cannot change
 *   the task (storage/fencing.ts).
 * - run: one claim of a task carried out by a worker; a task's runs are its history (`TaskRun`).
 */

// What the library's users see of task.ts (src/index.ts exports this module).
export { isStatus, isTerminal, STATUSES, statusLabel, TERMINAL_STATUSES } from './task.js'
export type { Progress, Status, TaskArgs } from './task.js'

/** The task record, with the SPEC's field names (what `--json` prints), derived from storage/task-row.ts. */
export type Task = TaskRecord

/** How a run ended: `lost` when its worker stopped heartbeating, `given_back` uncharged at a stop. */
export type RunOutcome = 'completed' | 'failed' | 'retry' | 'cancelled' | 'given_back' | 'lost'

/** One run of a task, as `sq show --json` lists them in `runs`; the run in progress has no outcome yet. */
export type TaskRun = Pick<TaskRunsTable, 'attempt' | 'worker' | 'error'> & {
  started: string | null
  finished: string | null
  outcome: RunOutcome | null
}

/** A task with its runs, oldest first: what `sq show` shows. */
export type TaskWithRuns = Task & { runs: TaskRun[] }

/** A live (or recently seen) worker process, as registered in the database (its sq_workers row). */
export type WorkerInfo = Omit<WorkersTable, 'queues' | 'started' | 'last_heartbeat'> & {
  queues: string[]
  started: string
  last_heartbeat: string
}
