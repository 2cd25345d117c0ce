import type { RunRef } from '../storage/run-repository.js'
import type { ClaimedTask } from '../storage/task-row.js'
import { RunOutput } from './run-output.js'
import type { TaskProcess } from './task-process.js'

/**
 * One claimed run of a task, in the worker, through its states:
 *
 *   waiting ──hand──▶ handed ──begin──▶ running ──process ends──▶ ending ──verdict written──▶ (forgotten)
 *      ▲  │             │                 │
 *      │  └── lost ◀────┴─────────────────┘   (cancelled, requeued or rescued by another worker: no verdict)
 *      └── taken back ──┘
 *
 * `waiting`: claimed ahead, in the worker's local queue, not started (the database has no `started`).
 * `handed`: in a task process's batch, behind the run it is on; not started either. Taken back (a stop,
 *   a cancel, its process died first) it is waiting again, or given back to the database.
 * `running`: begun in its task process; its output is flushed every FLUSH_MS.
 * `ending`: its process is done with it; its verdict waits in the VerdictWriter.
 */
export type RunState = 'waiting' | 'handed' | 'running' | 'ending' | 'lost'

export class Run {
  state: RunState = 'waiting'
  readonly ref: RunRef
  readonly output: RunOutput
  /** When the run began in its task process, and when its process was done with it (worker's clock, ms). */
  startedAt = 0
  endedAt = 0
  /** The start is in the database (markStarted, or not needed: the verdict writes it). */
  startRecorded = false
  proc: TaskProcess | undefined
  /** Handed, and its process was asked to give it back (`skip`); the answer is pending. */
  retracted = false
  /** An output flush in flight; the verdict waits for it, since it folds what the flush writes. */
  flushing: Promise<void> | undefined
  /** Some output or log has been written as chunks. */
  flushed = false

  constructor(
    readonly task: ClaimedTask,
    claim: number,
    maxOutputSize: number,
  ) {
    this.ref = { id: task.id, claim }
    this.output = new RunOutput(maxOutputSize)
  }

  get id(): string {
    return this.task.id
  }
}
