/** How much work, in time, a worker claims ahead of its free slots. */
const WINDOW_MS = 250
/** The most tasks claimed ahead, whatever their speed. */
const MAX_AHEAD = 64
/** Weight of the newest run in the moving average of how long a slot is busy per task. */
const WEIGHT = 0.2

/**
 * How many tasks a worker claims beyond its free slots. Claiming ahead saves a database round trip per
 * task, but a claimed task waits in the worker's local queue, where a task of higher priority queued
 * later cannot pass it. So the lead is bounded by time: about WINDOW_MS of work at the observed speed —
 * up to MAX_AHEAD no-op tasks, none for tasks that take a second.
 */
export class Prefetch {
  private averageMs: number | undefined

  constructor(private readonly concurrency: number) {}

  /** A slot was busy `ms` with one task. */
  observe(ms: number): void {
    this.averageMs = this.averageMs === undefined ? ms : this.averageMs * (1 - WEIGHT) + ms * WEIGHT
  }

  /** Tasks to hold claimed beyond the free slots; none until a run has been timed. */
  get size(): number {
    if (this.averageMs === undefined) return 0
    return Math.min(MAX_AHEAD, Math.floor((this.concurrency * WINDOW_MS) / Math.max(this.averageMs, 0.1)))
  }
}
