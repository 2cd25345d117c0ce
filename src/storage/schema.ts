import type { Generated } from 'kysely'
import type { RunOutcome } from '../types.js'
import type { Timestamp, TasksTable } from './task-row.js'

/** Output and log of a run in progress, a row per flushed batch (`output = output || ?` rewrites it all). */
export interface TaskChunksTable {
  seq: Generated<number>
  task_id: string
  /** The run's claim (sq_tasks.claims when it was claimed): its fencing token. */
  claim: number
  stream: 'output' | 'log'
  data: string
}

/** A task's earlier runs: a trigger copies the row's run here as it goes back to the queue (migration 009). */
export interface TaskRunsTable {
  seq: Generated<number>
  task_id: string
  claim: number
  /** The task's `attempts` during the run: a given-back run and the run after it share one. */
  attempt: number
  worker: string | null
  started: Timestamp | null
  finished: Timestamp
  outcome: RunOutcome
  error: string | null
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

/** One row per recurring schedule a worker has seen (migration 003); the config file defines them. */
export interface SchedulesTable {
  name: string
  /** The newest slot fired or skipped; the compare-and-set token of the next firing. */
  last_slot: Timestamp | null
  last_task_id: string | null
  created: Timestamp
}

/** A queue listed here is paused: the claim skips its tasks. */
export interface PausedQueuesTable {
  queue: string
  paused_at: Timestamp
}

export interface Database {
  sq_tasks: TasksTable
  sq_task_chunks: TaskChunksTable
  sq_task_runs: TaskRunsTable
  sq_workers: WorkersTable
  sq_schedules: SchedulesTable
  sq_paused_queues: PausedQueuesTable
}
