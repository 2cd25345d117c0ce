import type { ColumnType, Generated } from 'kysely'
import type { Status } from '../types.js'

/**
 * Timestamps are `timestamptz` on PostgreSQL (the driver reads them as Date) and ISO-8601 UTC text with
 * milliseconds on SQLite (`2026-11-29T08:15:01.123Z`), a format that sorts as text in time order.
 * Both accept an ISO string on write; `dialect.toIso` normalises what is read.
 */
export type Timestamp = ColumnType<Date | string, string, string>

export interface TasksTable {
  id: string
  task: string
  /** JSON text of the args object. */
  args: string
  status: Status
  output: string | null
  error: string | null
  log: string | null
  worker_pid: number | null
  worker: string | null
  /** The sq_workers row of the run in progress; liveness is judged by its heartbeat. */
  worker_id: string | null
  created: Timestamp
  modified: Timestamp
  started: Timestamp | null
  finished: Timestamp | null
  /** Runs so far; also the fencing token of the current claim. */
  attempts: number
  max_attempts: number
  run_at: Timestamp
  priority: number
  queue: string
  key: string | null
  /** JSON text of the latest structured progress. */
  progress: string | null
  cpu_ms: number | null
  peak_rss_bytes: number | null
  duration_ms: number | null
}

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
  sq_workers: WorkersTable
  sq_schedules: SchedulesTable
  sq_paused_queues: PausedQueuesTable
}
