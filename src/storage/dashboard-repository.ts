import { sql } from 'kysely'
import { type Status, TERMINAL_STATUSES } from '../task.js'
import type { Task } from '../types.js'
import type { Backend } from './backend.js'
import { countWhen, endedSince } from './monitor-repository.js'
import { newestFirst, searchSql } from './task-repository.js'
import type { TaskRow } from './task-row.js'

/** The reads of the dashboard and /metrics (`sq serve`), one statement each: a few round trips at any size. */

/**
 * Seconds the oldest runnable task of each queue has waited since its run_at, by the database's clock. A skip
 * scan of sq_tasks_claim (queue, priority desc, run_at): each queue, each of its priorities, and the first
 * run_at there, each a seek; a GROUP BY over the queued rows read the whole backlog.
 */
export async function oldestQueuedByQueue(backend: Backend) {
  const { now, viaClaimIndex } = backend.spelling
  const queued = `from "sq_tasks"${viaClaimIndex} where "status" = 'queued'`
  const rows = await backend.query<{ queue: string; oldest: Date | string; now: Date | string }>(
    `with recursive "queues"("queue") as (
      select min("queue") ${queued}
      union all
      select (select min("queue") ${queued} and "queue" > "queues"."queue") from "queues" where "queue" is not null
    ), "levels"("queue", "priority") as (
      select "queue", (select max("priority") ${queued} and "queue" = "queues"."queue") from "queues" where "queue" is not null
      union all
      select "queue", (select max("priority") ${queued} and "queue" = "levels"."queue" and "priority" < "levels"."priority")
      from "levels" where "priority" is not null
    ), "heads" as (
      select "queue", (select min("run_at") ${queued} and "queue" = "levels"."queue" and "priority" = "levels"."priority"
        and "run_at" <= ${now}) as "oldest" from "levels" where "priority" is not null
    )
    select "queue", min("oldest") as "oldest", ${now} as "now" from "heads" where "oldest" is not null
    group by "queue" order by "queue"`,
    [],
  )
  return rows.map((r) => {
    const runAt = backend.toIso(r.oldest as string)
    return {
      queue: r.queue,
      runAt,
      seconds: Math.max(0, (Date.parse(backend.toIso(r.now)) - Date.parse(runAt)) / 1000),
    }
  })
}

/**
 * Ended tasks per task reference and status: `timed` of them recorded a duration (a cancelled run has none),
 * `cumulative[i]` of those took at most boundsSeconds[i] (a Prometheus histogram's buckets). One pass over the table.
 */
export async function endedByTask(backend: Backend, boundsSeconds: number[]) {
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
  return rows.map((r) => ({
    task: r.task,
    status: r.status,
    n: Number(r.n),
    timed: Number(r.timed),
    cumulative: boundsSeconds.map((_, i) => Number((r as Record<string, unknown>)[`b${i}`] ?? 0)),
    sumSeconds: Number(r.sum_ms ?? 0) / 1000,
  }))
}

export type EndedByTask = Awaited<ReturnType<typeof endedByTask>>[number]

/** Completions and failures per bucket of the last `buckets × bucketSeconds` before `now`, the database's. */
export async function throughput(backend: Backend, o: { buckets: number; bucketSeconds: number; now: string }) {
  const end = Math.ceil(Date.parse(o.now) / (o.bucketSeconds * 1000)) * o.bucketSeconds * 1000
  const starts = Array.from({ length: o.buckets }, (_, i) =>
    new Date(end - (o.buckets - i) * o.bucketSeconds * 1000).toISOString(),
  )
  const since = await endedSince(backend, starts)
  return starts.map((at, i) => ({
    at,
    completed: since[i]!.completed - (since[i + 1]?.completed ?? 0),
    failed: since[i]!.failed - (since[i + 1]?.failed ?? 0),
  }))
}

const SUMMARY_COLUMNS = [
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
] as const

/** A task as a list shows it, without its output and log, with the start of its error (300 characters). */
export type TaskSummary = Summary<Task>
type Summary<T> = Pick<T, (typeof SUMMARY_COLUMNS)[number] & keyof T> & { error_head: string | null }

/** One page of tasks, newest first, filtered; `more`: another page follows (the query reads one row beyond). */
export async function taskPage(
  backend: Backend,
  f: { statuses?: Status[]; queue?: string | null; search?: string | null; limit: number; offset: number },
): Promise<{ tasks: TaskSummary[]; more: boolean }> {
  const rows = await newestFirst<Summary<TaskRow>>(backend, {
    select: `${SUMMARY_COLUMNS.map((c) => `"${c}"`).join(', ')}, substr("error", 1, 300) as "error_head"`,
    statuses: f.statuses,
    where: (p) => [f.queue && `"queue" = ${p(f.queue)}`, f.search && searchSql(f.search, p)],
    limit: f.limit + 1,
    offset: f.offset,
  })
  return {
    more: rows.length > f.limit,
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
