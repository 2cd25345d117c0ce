/**
 * A run of a task, named by its fencing token: the task's id and the claim that made the run (the
 * task's `claims` counter, which only grows: no two runs of a task share one). Every write after the
 * claim goes through `owned`, so a worker that lost its claim (cancel, requeue, a rescue by another
 * worker, a give-back) can never change the task. (The verdict, a batch, joins its rows on the same
 * three columns: run-verdict.ts.)
 */
export interface RunRef {
  id: string
  claim: number
}

/**
 * The one fencing predicate: the task is still in this run (same claim, still in progress). Its
 * values, taken from `p` (parameters, backend.ts), are the run's id and claim, in that order.
 */
export const owned = (p: () => string) => `"id" = ${p()} and "claims" = ${p()} and "status" = 'progress'`
