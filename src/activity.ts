import type { Backend } from './storage/backend.js'
import { oldestQueuedByQueue } from './storage/dashboard-repository.js'
import { type Counted, countsBy, runningTasks } from './storage/monitor-repository.js'
import { readJson } from './storage/task-row.js'
import { liveWorkers } from './storage/worker-repository.js'
import { ACTIVE_STATUSES, type Status, zeroCounts } from './task.js'
import { lastNonBlankLine } from './display-text.js'
import type { WorkerInfo } from './types.js'

/** How stale ended counts (and the oldest queued tasks) may be: they change only as tasks end or are purged. */
const ENDED_COUNTS_MAX_AGE_MS = 5000

export type RunningTask = Awaited<ReturnType<Activity['running']>>[number]

/** What is happening in the queue, read one way for `sq top`, `sq stats`, the dashboard and /metrics. */
export class Activity {
  private readonly slow = new Map<string, { at: number; data: Promise<unknown> }>()

  constructor(
    readonly backend: Backend,
    private readonly settings: { heartbeatTimeout: number; endedCountsMaxAgeMs?: number },
  ) {}

  /** Tasks per status: active ones counted now, ended ones as counted at most the max age ago; `estimated`: see countsBy. */
  async counts(): Promise<{ counts: Record<Status, number>; estimated: Status[] }> {
    const { groups, estimated } = await this.countsBy(null)
    return { counts: groups.get('') ?? zeroCounts(), estimated }
  }

  /** Tasks per queue and status, by queue name, counted as `counts()` counts them. */
  async countsByQueue() {
    const { groups, estimated } = await this.countsBy('queue')
    return { queues: [...groups].map(([queue, counts]) => ({ queue, counts })), estimated }
  }

  /** The oldest runnable queued task of each queue, as read at most the max age ago. */
  oldestQueued() {
    return this.slowRead('oldest', () => oldestQueuedByQueue(this.backend))[0]
  }

  /** Tasks running now, oldest start first; `elapsedMs` by the database's clock `now`; `lastLine` unescaped. */
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

  /** Counts in full at most every max age, in between only active ones re-read; empty groups dropped. */
  private async countsBy(by: 'queue' | null): Promise<Counted> {
    const [all, cached] = this.slowRead(`counts by ${by}`, () => countsBy(this.backend, by))
    const [ended, active] = await Promise.all([all, cached ? countsBy(this.backend, by, ACTIVE_STATUSES) : all])
    const merged = [...new Set([...ended.groups.keys(), ...active.groups.keys()])].sort().map((group) => {
      const fresh = Object.fromEntries(ACTIVE_STATUSES.map((s) => [s, active.groups.get(group)?.[s] ?? 0]))
      return [group, { ...(ended.groups.get(group) ?? zeroCounts()), ...fresh }] as const
    })
    const isActive = (s: Status) => (ACTIVE_STATUSES as readonly Status[]).includes(s)
    return {
      groups: new Map(merged.filter(([, counts]) => Object.values(counts).some((n) => n > 0))),
      estimated: [...ended.estimated.filter((s) => !isActive(s)), ...active.estimated.filter(isActive)],
    }
  }

  /** `read()` as done at most the max age ago (and whether it was), else now; a failed read is not kept. */
  private slowRead<T>(key: string, read: () => Promise<T>): [data: Promise<T>, cached: boolean] {
    const entry = this.slow.get(key)
    if (entry && Date.now() - entry.at < (this.settings.endedCountsMaxAgeMs ?? ENDED_COUNTS_MAX_AGE_MS))
      return [entry.data as Promise<T>, true]
    const fresh = { at: Date.now(), data: read() }
    this.slow.set(key, fresh)
    fresh.data.catch(() => {
      if (this.slow.get(key) === fresh) this.slow.delete(key)
    })
    return [fresh.data, false]
  }
}
