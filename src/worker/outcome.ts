import type { RunOutcome } from '../storage/run-verdict.js'
import type { TaskLogFields, WorkerLog } from './log.js'
import type { WorkerPresence } from './presence.js'
import type { Run } from './run.js'
import type { RunResult } from './task-process.js'
import type { VerdictWriter } from './verdict-writer.js'

/** What ended a run, as the worker saw it: the task process's result, or the worker's refusal. */
export type RunEnd = Exclude<RunResult, { kind: 'unstarted' }> | { kind: 'refused'; error: string }

/** The longest a retry waits: backoff doubles per attempt (2 s, 4 s, 8 s, …) up to this. */
const MAX_BACKOFF_SECONDS = 3600

/**
 * The verdict of a run: completed, failed, or — a failure with attempts left — back to the queue after
 * a backoff. A run killed because its worker stopped goes back at once without spending its attempt:
 * the worker stopping is not the task's failure.
 */
export function outcomeOf(
  end: RunEnd,
  run: { attempt: number; maxAttempts: number },
  limits: { timeoutSeconds: number },
  written: Pick<RunOutcome, 'durationMs' | 'tail' | 'chunksWritten' | 'ran'>,
): RunOutcome {
  const usage = 'cpuMs' in end ? { cpuMs: end.cpuMs, peakRssBytes: end.peakRss } : {}
  if (end.kind === 'killed' && end.reason === 'stop') {
    const { ran: _, ...kept } = written
    return { status: 'queued', givenBack: true, ...kept }
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
        : `Task stopped by its worker (${end.reason})` // 'stop' is given back and 'lost' gets no verdict, above
  }
}

/** The worker's log words for a verdict: `<verdict> <task id> in 0.12s<why>`. */
export function describeVerdict(outcome: RunOutcome, recorded: boolean): { verdict: string; why: string } {
  if (!recorded) return { verdict: 'lost', why: '' }
  if ('givenBack' in outcome) {
    return {
      verdict: 'gave back',
      why: ': the worker stopped before it finished; queued again without spending an attempt',
    }
  }
  const why = outcome.error ? `: ${outcome.error.split('\n')[0]}` : ''
  if ('retryAfterSeconds' in outcome) return { verdict: `will retry (in ${outcome.retryAfterSeconds}s)`, why }
  return { verdict: outcome.status, why }
}

/** The worker's log line for a run dropped before it began: its task was cancelled or taken away. */
export function droppedLine(id: string): string {
  return `dropped ${id}: it was cancelled or taken from this worker before it started`
}

export interface RunEndContext {
  verdicts: VerdictWriter
  /** The worker's name for the log, and its reckoning of the database's clock, in which records are written. */
  presence: Pick<WorkerPresence, 'name' | 'databaseTime'>
  timeoutSeconds: number
  log: WorkerLog
  onVerdict?(taskId: string, outcome: RunOutcome): void
}

/** A run its process is done with: its verdict goes to the VerdictWriter, logged once written; a lost run gets none. */
export async function finishRun(run: Run, end: RunEnd, ctx: RunEndContext): Promise<void> {
  if (run.state === 'lost' || (end.kind === 'killed' && end.reason === 'lost')) {
    ctx.log(`stopped ${run.id}: it was cancelled or taken from this worker`, runLogFields(run, ctx.presence))
    return
  }
  run.ending()
  const durationMs = run.endedAt - run.startedAt
  if (end.kind === 'completed' && end.output !== null) run.output.append('output', end.output)
  // What is still buffered goes with the verdict; a run that never flushed ends in one row of a batch.
  while (run.flushing) await run.flushing
  const outcome = outcomeOf(
    end,
    { attempt: run.task.attempts, maxAttempts: run.task.max_attempts },
    { timeoutSeconds: ctx.timeoutSeconds },
    {
      durationMs,
      tail: run.output.take(),
      chunksWritten: run.flushed,
      ran: { startedAt: ctx.presence.databaseTime(run.startedAt), endedAt: ctx.presence.databaseTime(run.endedAt) },
    },
  )
  ctx.verdicts.add({
    run: run.ref,
    outcome,
    // What was written: a verdict refused for its content is replaced by a failure that says so.
    done: (recorded, written) => {
      if (recorded) ctx.onVerdict?.(run.id, written)
      const { verdict, why } = describeVerdict(written, recorded)
      const fields = { duration_ms: Math.round(durationMs), ...(recorded ? { status: written.status } : {}) }
      ctx.log(
        `${verdict} ${run.id} in ${(durationMs / 1000).toFixed(2)}s${why}`,
        runLogFields(run, ctx.presence, fields),
      )
    },
  })
}

/** The fields of a log line about one run (--log-format json). */
export function runLogFields(run: Run, { name }: { name: string }, more: Partial<TaskLogFields> = {}): TaskLogFields {
  return { task_id: run.id, task: run.task.task, attempt: run.task.attempts, worker: name, ...more }
}
