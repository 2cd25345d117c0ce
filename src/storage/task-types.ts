import type { ActiveStatus, Status } from '../task.js'

/** Types the library's API shows, apart from the queries: the declarations must not reach Kysely's (bundled). */

export interface ListFilter {
  statuses?: Status[]
  /** Glob on the whole task reference (`*`, `?`); without wildcards a substring (see taskMatches). */
  taskPattern?: string
  /** Case-insensitive substring of the id, the task reference or the output. */
  search?: string
  /** ISO time: only tasks modified at or after it. */
  since?: string
  limit: number
}

/** What a cancel did: cancelled the task (it was queued or running), or found it already ended. */
export type CancelOutcome = { cancelled: true; was: ActiveStatus } | { cancelled: false; status: Status }

/** What a requeue did: requeued the task (it had ended), or found it queued or running. */
export type RequeueOutcome = { requeued: true } | { requeued: false; status: ActiveStatus }
