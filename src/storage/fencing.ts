import type { ExpressionBuilder } from 'kysely'
import type { Database } from './schema.js'

/**
 * A run of a task, named by its fencing token: the task's id and the attempt its claim made. Every
 * write after the claim goes through `owned`, so a worker that lost its claim (cancel, requeue, a
 * rescue by another worker) can never change the task.
 */
export interface RunRef {
  id: string
  attempt: number
}

/** The one fencing predicate: the task is still in this run (same attempt, still in progress). */
export const owned = (run: RunRef) => (eb: ExpressionBuilder<Database, 'sq_tasks'>) =>
  eb.and([eb('id', '=', run.id), eb('attempts', '=', run.attempt), eb('status', '=', 'progress')])
