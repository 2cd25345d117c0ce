import type { Status } from '../types.js'

/**
 * The task repository's types that the library's API shows (Queue.list, cancel, requeue), apart from
 * its queries so that the published declarations do not reach Kysely's, which the package bundles
 * rather than depends on.
 */

export interface ListFilter {
  statuses?: Status[]
  /** Glob on the task reference (`*`, `?`); without wildcards it matches as a substring. */
  taskPattern?: string
  /** Case-insensitive substring of the id, the task reference or the output. */
  search?: string
  /** ISO time: only tasks modified at or after it. */
  since?: string
  limit: number
}

export type CancelOutcome = { cancelled: true; was: 'queued' | 'progress' } | { cancelled: false; status: Status }

export type RequeueOutcome = { requeued: true } | { requeued: false; status: 'queued' | 'progress' }
