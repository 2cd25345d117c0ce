import type { Backend } from '../storage/backend.js'
import { appendChunks, lostRuns } from '../storage/run-repository.js'
import { type LocalRuns, loseRunning } from './local-runs.js'
import { droppedLine } from './outcome.js'
import type { Run } from './run.js'

/**
 * Two duties of a worker towards the runs it holds, each run by a Periodic service: their output
 * flushed to the database (so that `sq top` and `sq show --follow` see it), and their ownership checked
 * (a run whose task was cancelled, requeued or rescued meanwhile is dropped or killed).
 */
export class RunUpkeep {
  constructor(
    private readonly backend: Backend,
    private readonly runs: LocalRuns,
    private readonly log: (line: string) => void,
  ) {}

  /** Writes the output the running runs have produced since the last flush. */
  async flushOutput(): Promise<void> {
    await Promise.all(this.runs.runs().map((r) => this.flush(r)))
  }

  /** Stops runs, running or waiting, whose task was cancelled, requeued or rescued meanwhile. */
  async checkOwnership(): Promise<void> {
    const live = this.runs.live()
    if (live.length === 0) return
    const lost = new Set(
      (
        await lostRuns(
          this.backend,
          live.map((r) => r.ref),
        )
      ).map((ref) => ref.id),
    )
    if (lost.size === 0) return
    for (const r of this.runs.lose(lost)) {
      this.log(droppedLine(r.id))
    }
  }

  /**
   * Writes what the run has buffered. The promise never rejects: the verdict awaits it, and a database
   * that is away is the VerdictWriter's to wait out. A batch that could not be written goes back in
   * front of the buffer, so it is written by the next flush, or with the verdict.
   */
  private flush(run: Run): Promise<void> {
    if (run.flushing || run.output.empty || run.state !== 'running') return Promise.resolve()
    const batch = run.output.take()
    // Before the write: a write whose answer was lost may have committed its chunks.
    run.flushed = true
    run.flushing = appendChunks(this.backend, run.ref, batch)
      .then(
        (owned) => {
          if (!owned) loseRunning(run)
        },
        // The database is away: the claim loop and the VerdictWriter say so; a line per run would flood.
        () => run.output.putBack(batch),
      )
      .finally(() => {
        run.flushing = undefined
      })
    return run.flushing
  }
}
