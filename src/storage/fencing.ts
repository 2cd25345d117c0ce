import type { Progress } from '../types.js'

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

/** What a run writes besides its verdict: output, log and progress. */
export type RunTail = { output?: string; log?: string; progress?: Progress }

/**
 * Text both databases can store, for every text a run produces: PostgreSQL's text holds no NUL, and its
 * JSON no half surrogate pair (a string cut inside an emoji). Each becomes U+FFFD.
 */
export function storableText(text: string): string
export function storableText(text: string | null): string | null
export function storableText(text: string | null): string | null {
  if (text === null) return null
  const whole = text.isWellFormed() ? text : text.toWellFormed()
  return whole.includes('\u0000') ? whole.replaceAll('\u0000', '\uFFFD') : whole
}
