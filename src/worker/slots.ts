import { redactSecrets } from '../redact.js'
import { type BatchEnd, executeBatch, type ExecuteContext } from './execute.js'
import type { LocalRuns } from './local-runs.js'
import type { WorkerLog } from './log.js'
import type { Prefetch } from './prefetch.js'
import type { Run } from './run.js'

/**
 * A worker's `concurrency` slots, each a task process with a batch of runs: waiting runs are handed to
 * them, in batches, while one is free, and each run's end goes to `ended`. A slot frees the moment its
 * process is done with its batch.
 */
export class Slots {
  /** Slots with a batch. */
  busy = 0
  /** Runs whose process is done, before their verdict is handed to the writer. */
  private readonly finishing = new Set<Promise<void>>()

  constructor(
    private readonly concurrency: number,
    private readonly runs: LocalRuns,
    private readonly prefetch: Prefetch,
    private readonly execution: ExecuteContext,
    private readonly ended: (run: Run, end: BatchEnd) => Promise<void>,
    /** Runs were handed or a slot freed: the claim loop may want to refill. */
    private readonly changed: () => void,
    private readonly log: WorkerLog,
  ) {}

  get free(): number {
    return this.concurrency - this.busy
  }

  /** No run is between its process's end and the verdict writer. */
  get settled(): boolean {
    return this.finishing.size === 0
  }

  /** Hands waiting runs, in batches, to task processes while slots are free. */
  fill(): void {
    let handed = false
    while (!this.execution.stopping() && this.busy < this.concurrency && this.runs.waitingCount > 0) {
      const batch = this.runs.hand(this.prefetch.batch(this.runs.waitingCount, this.free))
      this.busy++
      handed = true
      const { ends, released } = executeBatch(batch, this.execution)
      batch.forEach((run, i) => {
        // Nothing may reject here unhandled: that would end the worker, and every run with it.
        const finished = ends[i]!.then((end) => this.ended(run, end)).catch((error: Error) =>
          this.log(`worker error: ${redactSecrets(error.message)}`),
        )
        this.finishing.add(finished)
        void finished.finally(() => this.finishing.delete(finished))
      })
      void released.then(() => {
        this.busy--
        this.fill()
        this.changed()
      })
    }
    if (handed) this.changed()
  }

  /** Waits until every ended run's verdict is with the writer. */
  async settle(): Promise<void> {
    while (this.finishing.size > 0) await Promise.all(this.finishing)
  }
}
