/**
 * A run, named by its fencing token: the task's id and the claim that made it (`claims` only grows).
 * Every write after the claim is `owned`, so a worker that lost its claim never changes the task.
 */
export interface RunRef {
  id: string
  claim: number
}

/** The task is still in this run; its values, from `p` (backend.ts's statement): the run's id and claim. */
export const owned = (p: () => string) => `"id" = ${p()} and "claims" = ${p()} and "status" = 'progress'`
