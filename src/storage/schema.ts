import type { Generated } from 'kysely'
import type { Timestamp, TasksTable } from './task-row.js'

/** The task row is defined column by column in task-row.ts; the other tables are small enough to write out. */
export type { Timestamp, TasksTable } from './task-row.js'

/**
 * Output and log of a run in progress, one row per flushed batch. Appending a batch is an INSERT, so it
 * costs the size of the batch, not of all output so far (an `output = output || ?` would rewrite it).
 * When the run ends its chunks are folded into sq_tasks.output/log and deleted.
 */
export interface TaskChunksTable {
  seq: Generated<number>
  task_id: string
  attempt: number
  stream: 'output' | 'log'
  data: string
}

export interface WorkersTable {
  id: string
  /** `host:pid`, what the task's `worker` field shows. */
  name: string
  host: string
  pid: number
  /** Comma-separated queue names. */
  queues: string
  concurrency: number
  running: number
  started: Timestamp
  last_heartbeat: Timestamp
}

export interface Database {
  sq_tasks: TasksTable
  sq_task_chunks: TaskChunksTable
  sq_workers: WorkersTable
}
