import { sql, type RawBuilder, type SqlBool } from 'kysely'
import { FINISHED_STATUSES, type Status, TERMINAL_STATUSES, zeroCounts } from '../task.js'
import type { Backend } from './backend.js'
import { inModifiedOrder } from './modified-order.js'
import { SEARCH_SQL, searchNeedle } from './search.js'

/**
 * The read-only queries of the web dashboard and of /metrics (`sq serve`) that `sq top` and `sq stats`
 * do not already have. Written once in Kysely for both dialects; each is one statement, so a scrape or
 * a refresh costs a few round trips whatever the number of tasks.
 */

/**
 * Tasks per queue and status: one GROUP BY. Over all statuses it reads every row (no index covers
 * queue and status, so ~0.1–0.3 s at 100,000 rows); with `only` the active statuses it reads just
 * their range of sq_tasks_status_modified, as large as the backlog. Statuses not counted are 0.
 */
export async function countsByQueue(
  backend: Backend,
  only?: readonly Status[],
): Promise<Array<{ queue: string; counts: Record<Status, number> }>> {
  let q = backend.db
    .selectFrom('sq_tasks')
    .select(['queue', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
  if (only) q = q.where('status', 'in', only)
  const rows = await q.groupBy(['queue', 'status']).orderBy('queue').execute()
  const byQueue = new Map<string, Record<Status, number>>()
  for (const row of rows) {
    const counts = byQueue.get(row.queue) ?? zeroCounts()
    counts[row.status] = Number(row.n)
    byQueue.set(row.queue, counts)
  }
  return [...byQueue].map(([queue, counts]) => ({ queue, counts }))
}

/**
 * Seconds the oldest runnable queued task of each queue has waited (since its run_at), by the
 * database's clock. Queues with nothing runnable are absent.
 */
export async function oldestQueuedByQueue(
  backend: Backend,
): Promise<Array<{ queue: string; seconds: number; runAt: string }>> {
  const rows = await backend.db
    .selectFrom('sq_tasks')
    .select(['queue', (eb) => eb.fn.min('run_at').as('oldest'), backend.now().as('now')])
    .where('status', '=', 'queued')
    .where('run_at', '<=', backend.now())
    .groupBy('queue')
    .orderBy('queue')
    .execute()
  return rows.map((r) => ({
    queue: r.queue,
    runAt: backend.toIso(r.oldest as string),
    seconds: Math.max(
      0,
      (Date.parse(backend.toIso(r.now as string)) - Date.parse(backend.toIso(r.oldest as string))) / 1000,
    ),
  }))
}

export interface EndedByTask {
  task: string
  status: Status
  /** Ended tasks of this reference in this status. */
  n: number
  /** Of those, the ones whose last run recorded a duration (a cancelled run has none). */
  timed: number
  /** Cumulative: timed runs of at most boundsSeconds[i], as a Prometheus histogram counts them. */
  cumulative: number[]
  sumSeconds: number
}

const countWhen = (condition: RawBuilder<boolean>) =>
  sql<number | string>`sum(case when ${condition} then 1 else 0 end)`

/**
 * Ended tasks (completed, failed, cancelled) per task reference and status, with a histogram of their
 * last run's duration counted by the database: for each bound one `sum(case when duration_ms <= bound
 * ...)`, so a single pass over the table returns the counts and every bucket.
 */
export async function endedByTask(backend: Backend, boundsSeconds: number[]): Promise<EndedByTask[]> {
  const rows = await backend.db
    .selectFrom('sq_tasks')
    .select([
      'task',
      'status',
      (eb) => eb.fn.countAll<number | string>().as('n'),
      (eb) => eb.fn.count<number | string>('duration_ms').as('timed'),
    ])
    .select(sql<number | string | null>`sum(duration_ms)`.as('sum_ms'))
    .select(boundsSeconds.map((b, i) => countWhen(sql`duration_ms <= ${sql.lit(Math.round(b * 1000))}`).as(`b${i}`)))
    .where('status', 'in', TERMINAL_STATUSES)
    .groupBy(['task', 'status'])
    .orderBy('task')
    .orderBy('status')
    .execute()
  return rows.map((r) => {
    const row = r as unknown as Record<string, number | string | null>
    return {
      task: r.task,
      status: r.status,
      n: Number(r.n),
      timed: Number(r.timed),
      cumulative: boundsSeconds.map((_, i) => Number(row[`b${i}`] ?? 0)),
      sumSeconds: Number(r.sum_ms ?? 0) / 1000,
    }
  })
}

export interface ThroughputBucket {
  /** Start of the bucket (ISO). */
  at: string
  completed: number
  failed: number
}

/**
 * Completions and failures per bucket over the last `buckets × bucketSeconds`, by the database's clock:
 * one statement over the range of sq_tasks_status_modified, with a cumulative count per bucket start
 * (`sum(case when modified >= start ...)`), differenced here. Bounds are ISO strings, which compare as
 * times on both dialects (timestamptz on PostgreSQL, ISO text on SQLite).
 */
export async function throughput(
  backend: Backend,
  o: { buckets: number; bucketSeconds: number; now: string },
): Promise<ThroughputBucket[]> {
  const end = Math.ceil(Date.parse(o.now) / (o.bucketSeconds * 1000)) * o.bucketSeconds * 1000
  const starts = Array.from({ length: o.buckets }, (_, i) =>
    new Date(end - (o.buckets - i) * o.bucketSeconds * 1000).toISOString(),
  )
  const rows = await backend.db
    .selectFrom('sq_tasks')
    .select('status')
    .select(starts.map((start, i) => countWhen(sql`modified >= ${start}`).as(`c${i}`)))
    .where('status', 'in', FINISHED_STATUSES)
    .where('modified', '>=', starts[0]!)
    .groupBy('status')
    .execute()
  const cumulative = (status: Status) => {
    const row = rows.find((r) => r.status === status) as unknown as Record<string, number | string> | undefined
    return starts.map((_, i) => Number(row?.[`c${i}`] ?? 0))
  }
  const done = cumulative('completed')
  const failed = cumulative('failed')
  const at = (list: number[], i: number) => list[i]! - (list[i + 1] ?? 0)
  return starts.map((start, i) => ({ at: start, completed: at(done, i), failed: at(failed, i) }))
}

export interface TaskSummary {
  id: string
  task: string
  status: Status
  queue: string
  priority: number
  attempts: number
  max_attempts: number
  created: string
  modified: string
  started: string | null
  finished: string | null
  run_at: string
  duration_ms: number | null
  /** The start of the error (at most 300 characters). */
  error_head: string | null
}

export interface TaskPageFilter {
  statuses?: Status[]
  queue?: string | null
  /** What storage/search.ts matches. */
  search?: string | null
  limit: number
  offset: number
}

/**
 * One page of tasks, newest first by `modified`, without their output and log (a list shows a line per
 * task). `more` tells whether another page follows: the query reads one row beyond the page.
 */
export async function taskPage(backend: Backend, f: TaskPageFilter): Promise<{ tasks: TaskSummary[]; more: boolean }> {
  let q = backend.db
    .selectFrom('sq_tasks')
    .select([
      'id',
      'task',
      'status',
      'queue',
      'priority',
      'attempts',
      'max_attempts',
      'created',
      'modified',
      'started',
      'finished',
      'run_at',
      'duration_ms',
    ])
    .select(sql<string | null>`substr(error, 1, 300)`.as('error_head'))
  if (f.queue) q = q.where('queue', '=', f.queue)
  if (f.search) {
    const needle = searchNeedle(f.search)
    q = q.where(
      sql.join(
        SEARCH_SQL.map((part) => sql.raw(part)),
        sql`${needle}`,
      ) as RawBuilder<SqlBool>,
    )
  }
  const rows = await inModifiedOrder(backend, f.statuses, q, {
    direction: 'desc',
    limit: f.limit + 1,
    offset: f.offset,
  })
  const more = rows.length > f.limit
  return {
    more,
    tasks: rows.slice(0, f.limit).map((r) => ({
      ...r,
      created: backend.toIso(r.created),
      modified: backend.toIso(r.modified),
      started: backend.toIso(r.started),
      finished: backend.toIso(r.finished),
      run_at: backend.toIso(r.run_at),
    })),
  }
}
