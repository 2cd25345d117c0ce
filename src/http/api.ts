import { UsageError } from '../errors.js'
import type { Queue } from '../queue/queue.js'
import type { Activity } from '../activity.js'
import { taskPage, throughput } from '../storage/dashboard-repository.js'
import { databaseNow } from '../storage/monitor-repository.js'
import { isStatus, type Progress, STATUSES, type Status, zeroCounts } from '../task.js'
import { progressText } from '../display-text.js'

export interface ApiContext {
  queue: Queue
  allowActions: boolean
  /** What is happening, read for every open page together (its slow counts shared for a few seconds). */
  activity: Activity
}

/** What sq top shows of a task's progress, so the page shows the same. */
const shownProgress = (progress: Progress | string | null) => (progress === null ? null : progressText(progress))

/** Counts per status and per queue, running tasks, live workers, and the optional sections. */
export async function overview(c: ApiContext) {
  const a = c.activity
  const reading = databaseNow(c.queue.backend)
  const [at, { queues, estimated }, oldest, running, workers, schedules, paused] = await Promise.all([
    reading,
    a.countsByQueue(),
    a.oldestQueued(),
    a.running({ limit: 100, now: reading.then(Date.parse) }),
    a.workers(),
    c.queue.settings.schedules.length > 0 ? c.queue.schedules() : null,
    c.queue.pausedQueues().then((rows) => rows.map((p) => p.queue)),
  ])
  const counts = zeroCounts()
  for (const q of queues) for (const s of STATUSES) counts[s] += q.counts[s]
  const now = Date.parse(at)
  return {
    at,
    database: c.queue.displayUrl,
    actions: { enabled: c.allowActions, pause: c.allowActions },
    counts,
    /** The statuses whose counts are estimates (monitor-repository.ts countsBy). */
    estimated,
    queues: queues.map(({ queue, counts }) => {
      const runAt = oldest.find((o) => o.queue === queue)?.runAt
      return {
        queue,
        counts,
        // The oldest task as read up to 5 s ago (activity.ts caches it), its age as of now; null once none waits.
        oldest_queued_age_seconds: runAt && counts.queued > 0 ? Math.max(0, (now - Date.parse(runAt)) / 1000) : null,
        paused: paused.includes(queue),
      }
    }),
    running: running.map((r) => ({
      id: r.id,
      task: r.task,
      worker: r.worker,
      started: r.started,
      attempts: r.attempt,
      claims: r.claims,
      progress: r.progress,
      progress_text: shownProgress(r.progress),
      last_line: r.lastLine,
    })),
    workers,
    /** Null when sq.config.* defines no schedules. */
    schedules,
  }
}

/** Completions and failures per minute over the last `minutes` (default 60, at most 1440). */
export async function throughputSeries(c: ApiContext, url: URL) {
  const minutes = intParam(url, 'minutes', 60, 1, 1440)
  const bucketSeconds = minutes <= 60 ? 60 : minutes <= 360 ? 300 : 900
  const now = await databaseNow(c.queue.backend)
  const buckets = await throughput(c.queue.backend, {
    buckets: Math.ceil((minutes * 60) / bucketSeconds),
    bucketSeconds,
    now,
  })
  return { at: now, bucket_seconds: bucketSeconds, buckets }
}

/** One page of tasks: `status` (comma-separated), `queue`, `q` (search), `page` (from 1), `limit`. */
export async function taskList(c: ApiContext, url: URL) {
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
  return { page, limit, ...result }
}

/** One task's record with its runs (what `sq show --json` prints), by id or unique prefix, and its progress_text. */
export async function taskDetail(c: ApiContext, id: string) {
  const t = await c.queue.getWithRuns(id)
  return { ...t, progress_text: shownProgress(t.progress) }
}

function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name)
  if (text === null || text === '') return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got "${text}"`)
  return n
}
