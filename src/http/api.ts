import type http from 'node:http'
import { UsageError } from '../errors.js'
import type { Queue } from '../queue/queue.js'
import { countsByQueue, oldestQueuedByQueue, taskPage, throughput } from '../storage/dashboard-repository.js'
import { databaseNow, runningTasks } from '../storage/monitor-repository.js'
import { readJson } from '../storage/task-row.js'
import { liveWorkers } from '../storage/worker-repository.js'
import { isStatus, STATUSES, TERMINAL_STATUSES, type Status } from '../types.js'
import { sendError, sendJson } from './respond.js'

/** The JSON the dashboard page fetches: GET /api/overview, /api/throughput, /api/tasks, /api/tasks/:id. */

export interface ApiContext {
  queue: Queue
  allowActions: boolean
  /** The slow part of the overview, shared by every client (see slowCounts). */
  slow?: { at: number; data: Promise<SlowCounts> }
}

/**
 * How stale the overview's counts of ended tasks per queue, and its oldest queued task per queue, may
 * be. Both read every row of a large table (~0.1–0.3 s at 100,000 rows on SQLite: no index covers the
 * queue with the status), so they are read at most this often for all open pages together, as `sq top`
 * re-counts ended tasks every 5 s. Queued and running tasks are counted at every request.
 */
export const SLOW_COUNTS_MAX_AGE_MS = 5000

interface SlowCounts {
  ended: Awaited<ReturnType<typeof countsByQueue>>
  oldest: Awaited<ReturnType<typeof oldestQueuedByQueue>>
}

function slowCounts(c: ApiContext): Promise<SlowCounts> {
  if (c.slow && Date.now() - c.slow.at < SLOW_COUNTS_MAX_AGE_MS) return c.slow.data
  const backend = c.queue.backend
  const data = Promise.all([countsByQueue(backend, [...TERMINAL_STATUSES]), oldestQueuedByQueue(backend)]).then(
    ([ended, oldest]) => ({
      ended,
      oldest,
    }),
  )
  const slow = { at: Date.now(), data }
  c.slow = slow
  data.catch(() => {
    if (c.slow === slow) c.slow = undefined
  })
  return data
}

/** Counts per status and per queue, running tasks, live workers, and the optional sections. */
export async function overview(c: ApiContext, res: http.ServerResponse): Promise<void> {
  const backend = c.queue.backend
  try {
    const [at, active, slow, running, workers, schedules, paused] = await Promise.all([
      databaseNow(backend),
      countsByQueue(backend, ['queued', 'progress']),
      slowCounts(c),
      runningTasks(backend, { limit: 100 }),
      liveWorkers(backend, c.queue.settings.heartbeatTimeout),
      c.queue.settings.schedules.length > 0 ? c.queue.schedules() : null,
      c.queue.pausedQueues().then((rows) => rows.map((p) => p.queue)),
    ])
    const byQueue = new Map<string, Record<Status, number>>()
    for (const { queue, counts } of [...active, ...slow.ended]) {
      const entry = byQueue.get(queue) ?? (Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>)
      for (const s of STATUSES) entry[s] += counts[s]
      byQueue.set(queue, entry)
    }
    const counts = Object.fromEntries(
      STATUSES.map((s) => [s, [...byQueue.values()].reduce((n, q) => n + q[s], 0)]),
    ) as Record<Status, number>
    const now = Date.parse(at)
    sendJson(res, 200, {
      at,
      database: c.queue.displayUrl,
      actions: { enabled: c.allowActions, pause: c.allowActions },
      counts,
      queues: [...byQueue]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([queue, counts]) => {
          const oldest = slow.oldest.find((o) => o.queue === queue)
          return {
            queue,
            counts,
            // The oldest task read up to SLOW_COUNTS_MAX_AGE_MS ago, its age as of now; null once none waits.
            oldest_queued_age_seconds:
              oldest && counts.queued > 0 ? Math.max(0, (now - Date.parse(oldest.runAt)) / 1000) : null,
            paused: paused.includes(queue),
          }
        }),
      running: running.map((r) => ({
        ...r,
        progress: readJson('progress', r.progress),
        last_line:
          (r.last_output ?? '')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .at(-1) ?? '',
        last_output: undefined,
      })),
      workers,
      schedules,
    })
  } catch (error) {
    sendError(res, error)
  }
}

/** Completions and failures per minute over the last `minutes` (default 60, at most 1440). */
export async function throughputSeries(c: ApiContext, url: URL, res: http.ServerResponse): Promise<void> {
  try {
    const minutes = intParam(url, 'minutes', 60, 1, 1440)
    const bucketSeconds = minutes <= 60 ? 60 : minutes <= 360 ? 300 : 900
    const now = await databaseNow(c.queue.backend)
    const buckets = await throughput(c.queue.backend, {
      buckets: Math.ceil((minutes * 60) / bucketSeconds),
      bucketSeconds,
      now,
    })
    sendJson(res, 200, { at: now, bucket_seconds: bucketSeconds, buckets })
  } catch (error) {
    sendError(res, error)
  }
}

/** One page of tasks: `status` (comma-separated), `queue`, `q` (search), `page` (from 1), `limit`. */
export async function taskList(c: ApiContext, url: URL, res: http.ServerResponse): Promise<void> {
  try {
    const statuses = (url.searchParams.get('status') ?? '').split(',').filter((s) => s !== '')
    const bad = statuses.find((s) => !isStatus(s))
    if (bad) throw new UsageError(`unknown status "${bad}"`)
    const limit = intParam(url, 'limit', 25, 1, 200)
    const page = intParam(url, 'page', 1, 1, 1_000_000)
    const result = await taskPage(c.queue.backend, {
      statuses: statuses as Status[],
      queue: url.searchParams.get('queue') || null,
      search: url.searchParams.get('q')?.trim() || null,
      limit,
      offset: (page - 1) * limit,
    })
    sendJson(res, 200, { page, limit, ...result })
  } catch (error) {
    sendError(res, error)
  }
}

/** One task's record with its runs (what `sq show --json` prints), by id or unique prefix. */
export async function taskDetail(c: ApiContext, id: string, res: http.ServerResponse): Promise<void> {
  try {
    sendJson(res, 200, await c.queue.getWithRuns(id))
  } catch (error) {
    sendError(res, error)
  }
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name)
  if (text === null || text === '') return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`)
  return n
}
