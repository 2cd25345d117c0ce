import { redactSecrets } from '../redact.js'
import type { Backend } from '../storage/backend.js'
import { releaseUnstarted } from '../storage/run-release.js'
import { claimTasks, markStarted, nextDue } from '../storage/run-repository.js'
import type { WorkerPresence } from './presence.js'
import type { WorkerLog } from './log.js'
import { Run } from './run.js'

/**
 * A run claimed ahead still running this long after it started has its start written (in a batch); shorter
 * runs get it with their verdict. The shorter, the less a killed worker's run may be given back as unstarted.
 */
const MARK_AFTER_MS = 5

/**
 * A worker's traffic with the queue's runnable tasks: claims them in batches, records the start of those
 * claimed ahead, and gives back the ones never started. After a claim that came back short, it reads before
 * it takes the write lock again.
 */
export class Claims {
  /** The last claim found fewer runnable tasks than it asked for: read before taking the write lock. */
  drained = true
  /** Hints so far (notified, unsettle): one that lands while a claim or look is in flight outlives its answer. */
  private hints = 0
  /** Claims failed in a row (the database is away): the worker backs off, and is not idle. */
  failures = 0
  /** When the last claim failed (performance.now()): its answer may have been lost with a claimed task. */
  lastFailureAt = Number.NEGATIVE_INFINITY
  /** From the last look that found nothing runnable: ms until the next queued task comes due, if any. */
  dueInMs: number | undefined
  /** The last look found nothing runnable, and nothing said otherwise since (unsettle): a freed slot does not look. */
  private quiet = false
  private markTimer: NodeJS.Timeout | undefined
  private marking = true

  constructor(
    private readonly backend: Backend,
    private readonly presence: WorkerPresence,
    private readonly queues: string[],
    private readonly maxOutputSize: number,
    private readonly log: WorkerLog,
  ) {}

  /**
   * Claims up to `want` runs; none when the queue looks empty or the database is away. `startNow`:
   * every claimed run takes a free slot at once, so the claim records the start.
   */
  async take(want: number, startNow: boolean): Promise<Run[]> {
    try {
      // After a short claim the queue looked empty: a plain read finds out, without the write lock.
      if (this.drained && (this.quiet || !(await this.look()))) return []
      const hints = this.hints
      const tasks = await claimTasks(this.backend, {
        workerId: this.presence.id,
        workerName: this.presence.name,
        pid: process.pid,
        queues: this.queues,
        limit: want,
        startNow,
      })
      this.failures = 0
      // A short claim drains the queue, unless a hint said more came meanwhile.
      this.drained = tasks.length < want && this.hints === hints
      // None for a free slot (another worker was first, or not due yet): when is the next? (Not for a claim ahead.)
      if (tasks.length === 0 && startNow) await this.look()
      return tasks.map((task) => new Run(task, this.maxOutputSize, startNow))
    } catch (error) {
      // The database is away (restart, network, lock timeout): keep the running tasks, retry with backoff.
      this.failures++
      this.lastFailureAt = performance.now()
      this.drained = true
      this.quiet = false
      this.log(`cannot claim tasks (attempt ${this.failures}): ${redactSecrets((error as Error).message)}`)
      return []
    }
  }

  /** Reads when the next task comes due; true when one is runnable now. */
  private async look(): Promise<boolean> {
    const hints = this.hints
    const due = await nextDue(this.backend, this.queues)
    this.failures = 0
    this.dueInMs = due ?? undefined
    this.quiet = (due === null || due > 0) && this.hints === hints
    return !this.quiet
  }

  /** A notification says tasks were queued for this worker: the next claim goes ahead without a look. */
  notified(): void {
    this.drained = false
    this.hints++
  }

  /** Something may have changed since the last look: the next claim looks again. */
  unsettle(): void {
    this.quiet = false
    this.hints++
  }

  /** How long an idle worker sleeps before its next look: the poll, or less when a task comes due sooner. */
  idleMs(pollMs: number): number {
    return this.dueInMs === undefined ? pollMs : Math.min(pollMs, Math.max(1, Math.ceil(this.dueInMs)))
  }

  /** Burst mode: is no runnable task left? (Unknown, with the database away: no.) */
  async noneLeft(): Promise<boolean> {
    return this.look().then(
      (runnable) => !runnable,
      () => false,
    )
  }

  /** Gives claimed runs that never started back to the queue, without spending their attempt. */
  async giveBack(runs: Run[]): Promise<void> {
    if (runs.length === 0) return
    try {
      const refs = runs.map((r) => r.ref)
      const released = await releaseUnstarted(this.backend, this.presence.id, refs)
      this.log(`gave back ${released} claimed task${released === 1 ? '' : 's'} that had not started`)
    } catch (error) {
      // Left claimed: the stray release (or, once this worker is gone, a rescue) puts them back uncharged.
      this.log(`could not give back ${runs.length} unstarted task(s): ${redactSecrets((error as Error).message)}`)
    }
  }

  /**
   * A run without a recorded start began: records, in one statement, the start of the `unrecorded` runs still
   * running MARK_AFTER_MS after they began, so a dead worker's started runs are told from the others.
   */
  markStarts(unrecorded: () => Run[]): void {
    if (this.markTimer || !this.marking) return
    this.markTimer = setTimeout(() => {
      const due = Date.now() - MARK_AFTER_MS
      const marked = unrecorded().filter((r) => r.startedAt <= due)
      for (const r of marked) r.startRecorded = true
      const refs = marked.map((r) => r.ref)
      markStarted(this.backend, this.presence.id, refs)
        .catch((error: Error) => {
          for (const r of marked) r.startRecorded = false
          this.log(`could not record the start of ${marked.length} task(s): ${redactSecrets(error.message)}`)
        })
        .finally(() => {
          this.markTimer = undefined
          if (unrecorded().length > 0) this.markStarts(unrecorded)
        })
    }, MARK_AFTER_MS)
  }

  stopMarking(): void {
    this.marking = false
    clearTimeout(this.markTimer)
  }
}
