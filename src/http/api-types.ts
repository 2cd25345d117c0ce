import type { CancelResult, RequeueResult } from '../queue/queue.js'
import type { QueueState } from '../queue/pause.js'
import type { ScheduleInfo } from '../queue/schedules.js'
import type { TaskSummary, ThroughputBucket } from '../storage/dashboard-repository.js'
import type { RunningRow } from '../storage/monitor-repository.js'
import type { Status, Task, TaskWithRuns, WorkerInfo } from '../types.js'

/**
 * The JSON of `sq serve`'s API (api.ts, actions.ts, sse.ts), as docs/dashboard.md lists it. The handlers
 * are annotated with these and the browser script imports them type-only, so both ends read one shape.
 */

export type Counts = Record<Status, number>

/** GET /api/overview */
export interface Overview {
  at: string
  database: string
  actions: { enabled: boolean; pause: boolean }
  counts: Counts
  queues: Array<{ queue: string; counts: Counts; oldest_queued_age_seconds: number | null; paused: boolean }>
  running: Array<
    Omit<RunningRow, 'progress' | 'last_output'> & {
      progress: Task['progress']
      progress_text: string | null
      last_line: string
    }
  >
  workers: WorkerInfo[]
  /** Null when sq.config.* defines no schedules. */
  schedules: ScheduleInfo[] | null
}

/** GET /api/throughput */
export interface Throughput {
  at: string
  bucket_seconds: number
  buckets: ThroughputBucket[]
}

/** GET /api/tasks */
export interface TaskPage {
  page: number
  limit: number
  more: boolean
  tasks: TaskSummary[]
}

/** GET /api/tasks/ID */
export type TaskDetail = TaskWithRuns

/** Every POST answers with what it did and a sentence for the page to show. */
export type Said<T> = T & { message: string }

/** POST /api/tasks/ID/cancel, /requeue; POST /api/queues/Q/pause, /resume */
export type ActionAnswer = Said<CancelResult | RequeueResult | QueueState>

/**
 * POST /api/queues/Q/retry-failed and POST /api/purge: `count` tasks requeued or deleted, or with
 * `dry_run=1` the count that would be, for the page's confirmation.
 */
export type BulkAnswer = Said<{ count: number; dry_run: boolean }>

/** Any answer other than 2xx. */
export interface ApiError {
  error: string
}

/** GET /api/tasks/ID/events: each Server-Sent Event's name and its data. */
export interface StreamEvents {
  state: { status: Status; attempt: number }
  reset: { attempt: number; clipped: boolean }
  output: { text: string }
  /** `deleted` when the task was purged while followed. */
  end: { status: Status | 'deleted' }
  error: ApiError
}
