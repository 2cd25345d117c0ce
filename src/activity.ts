import type { Backend } from './storage/backend.js'
import { oldestQueuedByQueue } from './storage/dashboard-repository.js'
import { countsBy, runningTasks } from './storage/monitor-repository.js'
import { readJson } from './storage/task-row.js'
import { liveWorkers } from './storage/worker-repository.js'
import { ACTIVE_STATUSES, type Status, TERMINAL_STATUSES, zeroCounts } from './task.js'
import { lastNonBlankLine } from './display-text.js'
import type { WorkerInfo } from './types.js'

/**
 * What is happening in the queue, read one way for everyone who shows it: `sq top` (monitor.ts),
 * `sq stats` (queue/stats.ts), the dashboard's overview (http/api.ts) and /metrics (http/metrics.ts).
 */

/**
 * How stale the counts of ended tasks may be: counting them reads every row of a large table (see
 * countsBy), so a read re-counts only queued and running tasks and reuses the ended counts until they
 * are this old. The oldest queued task per queue is read as often.
 */
export const ENDED_COUNTS_MAX_AGE_MS = 5000

export type QueueCounts = { queue: string; counts: Record<Status, number> }
export type OldestQueued = Awaited<ReturnType<typeof oldestQueuedByQueue>>[number]

export type RunningTask = Awaited<ReturnType<Activity['running']>>[number]

/** Reads of the queue's state; the slow ones are shared by every caller for ENDED_COUNTS_MAX_AGE_MS. */
export class Activity {
  private readonly slow = new Map<string, { at: number; data: Promise<unknown> }>()

  constructor(
    readonly backend: Backend,
    private readonly settings: { heartbeatTimeout: number; endedCountsMaxAgeMs?: number },
  ) {}

  /** Tasks per status: active ones counted now, ended ones as counted at most the max age ago. */
  async counts(): Promise<Record<Status, number>> {
    return (await this.countsBy(null)).get('') ?? zeroCounts()
  }

  /** Tasks per queue and status, by queue name, counted as `counts()` counts them. */
  async countsByQueue(): Promise<QueueCounts[]> {
    return [...(await this.countsBy('queue'))].map(([queue, counts]) => ({ queue, counts }))
  }

  /** The oldest runnable queued task of each queue, as read at most the max age ago. */
  oldestQueued(): Promise<OldestQueued[]> {
    return this.cached('oldest') ?? this.remember('oldest', oldestQueuedByQueue(this.backend))
  }

  /**
   * Tasks running now (started), oldest start first; `now` is the database's time (ms), read meanwhile.
   * `elapsedMs` is by that clock; `progress` as the record holds it (readJson); `lastLine` the last
   * non-blank line of its output so far, unescaped (each UI escapes).
   */
  async running(o: { taskPattern?: string | null; limit: number; now: Promise<number> }) {
    const [rows, now] = await Promise.all([runningTasks(this.backend, o), o.now])
    return rows.map(({ attempts, progress, last_output, ...r }) => ({
      ...r,
      elapsedMs: r.started === null ? 0 : Math.max(0, now - Date.parse(r.started)),
      attempt: attempts,
      progress: readJson('progress', progress),
      lastLine: lastNonBlankLine(last_output),
    }))
  }

  workers(): Promise<WorkerInfo[]> {
    return liveWorkers(this.backend, this.settings.heartbeatTimeout)
  }

  /** Drops what was read, after a change made here (an action), so the next read shows it at once. */
  forget(): void {
    this.slow.clear()
  }

  /**
   * Counts read in full at most every max age, and in between their ended statuses taken from that read,
   * their active ones re-read. Groups with no task left are dropped; the rest are in order.
   */
  private async countsBy(by: 'queue' | null): Promise<Map<string, Record<Status, number>>> {
    const key = `counts by ${by}`
    const cached = this.cached<Awaited<ReturnType<typeof countsBy>>>(key)
    const all = cached ?? this.remember(key, countsBy(this.backend, by))
    const [ended, active] = await Promise.all([all, cached ? countsBy(this.backend, by, ACTIVE_STATUSES) : all])
    const merged = new Map<string, Record<Status, number>>()
    const entry = (group: string) => merged.get(group) ?? merged.set(group, zeroCounts()).get(group)!
    for (const [group, counts] of ended) for (const s of TERMINAL_STATUSES) entry(group)[s] = counts[s]
    for (const [group, counts] of active) for (const s of ACTIVE_STATUSES) entry(group)[s] = counts[s]
    const kept = [...merged].filter(([, counts]) => Object.values(counts).some((n) => n > 0))
    return new Map(kept.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  private cached<T>(key: string): Promise<T> | undefined {
    const entry = this.slow.get(key)
    const maxAge = this.settings.endedCountsMaxAgeMs ?? ENDED_COUNTS_MAX_AGE_MS
    return entry && Date.now() - entry.at < maxAge ? (entry.data as Promise<T>) : undefined
  }

  private remember<T>(key: string, data: Promise<T>): Promise<T> {
    const entry = { at: Date.now(), data }
    this.slow.set(key, entry)
    // A failed read is not kept: the next caller reads again.
    data.catch(() => {
      if (this.slow.get(key) === entry) this.slow.delete(key)
    })
    return data
  }
}
