import type { CancelResult, RequeueResult } from '../queue/queue.js'
import type { QueueState } from '../queue/pause.js'
import type { Status } from '../types.js'
import type { overview, taskDetail, taskList, throughputSeries } from './api.js'

/** The JSON of `sq serve`'s API (docs/dashboard.md), imported type-only by the browser script too. */

/** GET /api/overview */
export type Overview = Awaited<ReturnType<typeof overview>>
/** GET /api/throughput */
export type Throughput = Awaited<ReturnType<typeof throughputSeries>>
/** GET /api/tasks */
export type TaskPage = Awaited<ReturnType<typeof taskList>>
/** GET /api/tasks/ID */
export type TaskDetail = Awaited<ReturnType<typeof taskDetail>>

/** POST /api/tasks/ID/cancel, /requeue; POST /api/queues/Q/pause, /resume: what it did, and a sentence to show. */
export type ActionAnswer = (CancelResult | RequeueResult | QueueState) & { message: string }

/** POST /api/queues/Q/retry-failed, /api/purge: `count` tasks requeued or deleted (or would be: `dry_run=1`). */
export type BulkAnswer = { count: number; dry_run: boolean; message: string }

/** Any answer other than 2xx. */
export type ApiError = { error: string }

/** GET /api/tasks/ID/events: each Server-Sent Event's name and its data. */
export interface StreamEvents {
  state: { status: Status; attempt: number }
  reset: { attempt: number; clipped: boolean }
  output: { text: string }
  /** `deleted` when the task was purged while followed. */
  end: { status: Status | 'deleted' }
  error: ApiError
}
