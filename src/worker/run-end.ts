import type { RunOutcome } from '../storage/run-verdict.js'
import type { TaskLogFields, WorkerLog } from './log.js'
import { describeVerdict, type RunEnd, outcomeOf } from './outcome.js'
import type { Run } from './run.js'
import type { VerdictWriter } from './verdict-writer.js'

export interface RunEndContext {
  verdicts: VerdictWriter
  /** A time of the worker's clock on the database's, in which records are written. */
  databaseTime(localMs: number): number
  timeoutSeconds: number
  log: WorkerLog
  onVerdict?(taskId: string, outcome: RunOutcome): void
  /** The worker's name (host:pid), for the log's fields. */
  worker: string
}

/**
 * A run its process is done with: its verdict, with the output still buffered, goes to the VerdictWriter,
 * which logs it once written. A run that lost its task gets none.
 */
export async function finishRun(run: Run, end: RunEnd, ctx: RunEndContext): Promise<void> {
  if (run.state === 'lost' || (end.kind === 'killed' && end.reason === 'lost')) {
    ctx.log(`stopped ${run.id}: it was cancelled or taken from this worker`, runLogFields(run, ctx.worker))
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
      ran: { startedAt: ctx.databaseTime(run.startedAt), endedAt: ctx.databaseTime(run.endedAt) },
    },
  )
  ctx.verdicts.add({
    run: run.ref,
    outcome,
    // What was written: a verdict refused for its content is replaced by a failure that says so.
    done: (recorded, written) => {
      if (recorded) ctx.onVerdict?.(run.id, written)
      const { verdict, why } = describeVerdict(written, recorded)
      ctx.log(
        `${verdict} ${run.id} in ${(durationMs / 1000).toFixed(2)}s${why}`,
        runLogFields(run, ctx.worker, {
          duration_ms: Math.round(durationMs),
          ...(recorded ? { status: written.status } : {}),
        }),
      )
    },
  })
}

/** The fields of a log line about one run (--log-format json). */
export function runLogFields(run: Run, worker: string, more: Partial<TaskLogFields> = {}): TaskLogFields {
  return { task_id: run.id, task: run.task.task, attempt: run.task.attempts, worker, ...more }
}
