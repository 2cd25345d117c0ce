import type { Backend } from '../storage/backend.js'
import { endRun, endRuns, MAX_VERDICT_BATCH, type RunOutcome, type Verdict } from '../storage/run-verdict.js'
import { redactSecrets } from '../redact.js'

export interface PendingVerdict extends Verdict {
  /** Called once the verdict is written: `recorded` is false when the run had lost its task. */
  done(recorded: boolean, written: RunOutcome): void
}

/** How long the first verdict of a batch waits for others to join it. */
const LINGER_MS = 10

/** Backoff while the database is away: 0.2 s doubling to 5 s. */
const RETRY_MIN_MS = 200
const RETRY_MAX_MS = 5000

/**
 * Writes the verdicts of ended runs — group commit: what ended while one write was in flight goes in the
 * next, as one statement. A write that fails for an outage is retried, each row fenced by its run's claim
 * (a late retry never overwrites a newer run); a batch refused for its content is written row by row.
 */
export class VerdictWriter {
  private readonly pending = new Map<string, PendingVerdict>()
  private writing: Promise<void> | undefined
  private failures = 0
  private giveUpAt = Infinity

  constructor(
    private readonly backend: Backend,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs whose verdict is not written yet: still this worker's, not strays. */
  has(id: string): boolean {
    return this.pending.has(id)
  }

  add(verdict: PendingVerdict): void {
    this.pending.set(verdict.run.id, verdict)
    this.writing ??= this.drain()
  }

  /** From `deadline` on (ms since epoch), verdicts the database still refuses are given up (the worker stops). */
  giveUpBy(deadline: number): void {
    this.giveUpAt = Math.min(this.giveUpAt, deadline)
  }

  /** Resolves when every verdict is written, or at `deadline` (giveUpBy), what is left logged as lost. */
  async flush(deadline?: number): Promise<void> {
    if (deadline !== undefined) this.giveUpBy(deadline)
    if (this.pending.size > 0) await this.writing
  }

  private async drain(): Promise<void> {
    // Runs ending in the next few ms join the batch: their slots are free already, the wait costs nothing.
    await new Promise((resolve) => setTimeout(resolve, LINGER_MS))
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()].slice(0, MAX_VERDICT_BATCH)
      const written = await this.write(batch)
      if (written) {
        this.failures = 0
        continue
      }
      if (Date.now() >= this.giveUpAt) {
        for (const v of this.pending.values())
          this.log(`lost the verdict of ${v.run.id}: the database stayed unreachable`)
        this.pending.clear()
        break
      }
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(RETRY_MIN_MS * 2 ** (this.failures - 1), RETRY_MAX_MS)),
      )
    }
    this.writing = undefined
  }

  /** Writes a batch; false when the database is away (the batch stays pending). */
  private async write(batch: PendingVerdict[]): Promise<boolean> {
    try {
      this.settle(batch, await endRuns(this.backend, batch))
      return true
    } catch (error) {
      if (!this.backend.isRefusal(error)) return this.unreachable(error)
    }
    // The database refused the batch for what it holds: one row's content. Row by row.
    for (const v of batch) {
      try {
        this.settle([v], await endRuns(this.backend, [v]))
      } catch (error) {
        if (!this.backend.isRefusal(error)) return this.unreachable(error)
        if (!(await this.refused(v, error as Error))) return false
      }
    }
    return true
  }

  /**
   * A verdict the database will not store gets one without the run's result that says why (a finished run
   * never looks unstarted). If even that is refused, the run is left to the rescue, as if this worker died.
   */
  private async refused(v: PendingVerdict, error: Error): Promise<boolean> {
    const why = `sq could not record this run's result: ${redactSecrets(error.message)}`
    this.log(`could not record the end of ${v.run.id}: ${redactSecrets(error.message)}`)
    try {
      const replacement = withoutResult(v.outcome, why)
      const recorded = await endRun(this.backend, v.run, replacement)
      this.settle([{ ...v, outcome: replacement }], recorded ? new Set([v.run.id]) : new Set())
    } catch (error) {
      if (!this.backend.isRefusal(error)) return this.unreachable(error)
      this.settle([v], new Set())
    }
    return true
  }

  private unreachable(error: unknown): false {
    this.failures++
    this.log(
      `cannot record verdicts (attempt ${this.failures}, ${this.pending.size} waiting): ${redactSecrets((error as Error).message)}`,
    )
    return false
  }

  private settle(batch: PendingVerdict[], recorded: Set<string>): void {
    for (const v of batch) {
      this.pending.delete(v.run.id)
      v.done(recorded.has(v.run.id), v.outcome)
    }
  }
}

/** The verdict without the run's output and log, failed for `why`: a retry stays a retry. */
function withoutResult(outcome: RunOutcome, why: string): RunOutcome {
  const kept = { ran: outcome.ran, durationMs: outcome.durationMs, chunksWritten: true }
  if ('retryAfterSeconds' in outcome)
    return { ...kept, status: 'queued', error: why, retryAfterSeconds: outcome.retryAfterSeconds }
  if ('givenBack' in outcome) return { ...kept, status: 'queued', error: why, retryAfterSeconds: 0 }
  return { ...kept, status: outcome.status === 'cancelled' ? 'cancelled' : 'failed', error: why }
}
