/** How much work, in time, a worker claims ahead of its free slots. */
const WINDOW_MS = 250
/** The most tasks claimed ahead, whatever their speed. */
const MAX_AHEAD = 256
/** How long, in work, runs may queue behind each other in one task process: past it, a batch is asked back. */
export const BATCH_WINDOW_MS = 50
/** The most runs handed to a task process in one message. */
const MAX_BATCH = 32
/** Weight of the newest run in the moving average of how long a slot is busy per task. */
const WEIGHT = 0.2

/**
 * How far a worker works ahead, from the observed time per task: tasks claimed beyond its free slots, and
 * runs handed a task process at once. The lead is bounded in time: a later, higher-priority task cannot pass.
 */
export class Prefetch {
  private averageMs: number | undefined

  constructor(private readonly concurrency: number) {}

  /** A slot was busy `ms` with one task. */
  observe(ms: number): void {
    this.averageMs = this.averageMs === undefined ? ms : this.averageMs * (1 - WEIGHT) + ms * WEIGHT
  }

  /** Runs to hand a task process at once, spread over the free slots: for short runs only (they wait in turn). */
  batch(waiting: number, freeSlots: number): number {
    if (this.averageMs === undefined) return 1
    const byTime = Math.floor(BATCH_WINDOW_MS / Math.max(this.averageMs, 0.1))
    return Math.max(1, Math.min(MAX_BATCH, byTime, Math.ceil(waiting / Math.max(freeSlots, 1))))
  }

  /** Tasks to hold claimed beyond the free slots; none until a run has been timed. */
  get size(): number {
    if (this.averageMs === undefined) return 0
    return Math.min(MAX_AHEAD, Math.floor((this.concurrency * WINDOW_MS) / Math.max(this.averageMs, 0.1)))
  }
}
