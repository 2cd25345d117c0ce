import type { RunOutcome } from '../storage/run-verdict.js'
import type { TaskLogFields } from './log.js'
import type { Run } from './run.js'
import type { RunResult } from './task-process.js'

/** What ended a run, as the worker saw it: the task process's result, or the worker's refusal. */
export type RunEnd = Exclude<RunResult, { kind: 'unstarted' }> | { kind: 'refused'; error: string }

/** The longest a retry waits: backoff doubles per attempt (2 s, 4 s, 8 s, …) up to this. */
const MAX_BACKOFF_SECONDS = 3600

/**
 * The verdict of a run: completed, failed, or — a failure with attempts left — back to the queue after
 * a backoff. A run killed because its worker stopped, or with a sibling in a shared process, goes back at
 * once without spending its attempt: neither is the task's failure.
 */
export function outcomeOf(
  end: RunEnd,
  run: { attempt: number; maxAttempts: number },
  limits: { timeoutSeconds: number },
  written: Pick<RunOutcome, 'durationMs' | 'tail' | 'chunksWritten' | 'ran'>,
): RunOutcome {
  const usage = 'cpuMs' in end ? { cpuMs: end.cpuMs, peakRssBytes: end.peakRss } : {}
  if (end.kind === 'killed' && (end.reason === 'stop' || end.reason === 'sibling')) {
    const { ran: _, ...kept } = written
    return { status: 'queued', givenBack: end.reason, ...kept }
  }
  const error = failureMessage(end, limits)
  if (error === null) return { status: 'completed', ...written, ...usage }
  const retryAfterSeconds = Math.min(2 ** run.attempt, MAX_BACKOFF_SECONDS)
  if (run.attempt < run.maxAttempts) return { status: 'queued', error, retryAfterSeconds, ...written, ...usage }
  return { status: 'failed', error, ...written, ...usage }
}

/** The error text of a run that did not complete, or null when it did. */
function failureMessage(end: RunEnd, limits: { timeoutSeconds: number }): string | null {
  switch (end.kind) {
    case 'completed':
      return null
    case 'threw':
    case 'refused':
      return end.error
    case 'exited':
      return end.code !== null
        ? `Worker subprocess exited with code ${end.code}`
        : `Worker subprocess was killed by signal ${end.signal}${end.signal === 'SIGABRT' ? ' (out of memory?)' : ''}`
    case 'killed':
      return end.reason === 'timeout'
        ? `Task timed out after ${limits.timeoutSeconds} seconds`
        : `Task stopped by its worker (${end.reason})` // 'stop', 'sibling' are given back, 'lost' gets no verdict
  }
}

/** The worker's log line for a verdict: `<verdict> <task id> in 0.12s<why>`. */
export function verdictLine(id: string, durationMs: number, outcome: RunOutcome, recorded: boolean): string {
  const took = `${id} in ${(durationMs / 1000).toFixed(2)}s`
  if (!recorded) return `lost ${took}`
  if ('givenBack' in outcome)
    return `gave back ${took}: ${outcome.givenBack === 'stop' ? 'the worker stopped before it finished' : 'its task process was killed for another task in it'}; queued again without spending an attempt`
  const why = outcome.error ? `: ${outcome.error.split('\n')[0]}` : ''
  if ('retryAfterSeconds' in outcome) return `will retry (in ${outcome.retryAfterSeconds}s) ${took}${why}`
  return `${outcome.status} ${took}${why}`
}

/** The worker's log line for a run dropped before it began: its task was cancelled or taken away. */
export function droppedLine(id: string): string {
  return `dropped ${id}: it was cancelled or taken from this worker before it started`
}

/** The fields of a log line about one run (--log-format json). */
export function runLogFields(run: Run, { name }: { name: string }, more: Partial<TaskLogFields> = {}): TaskLogFields {
  return { task_id: run.id, task: run.task.task, attempt: run.task.attempts, worker: name, ...more }
}
