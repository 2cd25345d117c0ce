import type { ActiveStatus, Status } from '../task.js'

/**
 * The task repository's types that the library's API shows (Queue.list, cancel, requeue), apart from
 * its queries so that the published declarations do not reach Kysely's, which the package bundles
 * rather than depends on.
 */

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
