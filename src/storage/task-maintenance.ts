import { sql, type RawBuilder } from 'kysely'
import { isTerminal, type Status } from '../types.js'
import type { Backend } from './backend.js'
import { globToLike, newestFirst } from './task-repository.js'

/** Task maintenance: purge (and retention), the ids `requeue --status` takes, `sq top`'s task filter. */

/** `--task PATTERN` for a Kysely query (`sq top`'s filter): see globToLike. */
export function taskMatches(column: string, pattern: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${sql.ref(column)}) like ${globToLike(pattern.toLowerCase())} escape '\\'`
}

/**
 * Rows one delete takes: each batch is a short write of its own, never one long lock over a big purge.
 * Fewer where a batch holds the one write lock (SQLite): a worker waiting for it sleeps in steps that
 * lengthen (1, 2, 5, 10, 15, 20 ms…), so a longer hold costs it more than the hold itself.
 */
const deleteBatch = (backend: Backend) => (backend.concurrentWriters ? 500 : 200)
/**
 * After each batch the purge rests this many times as long as the batch took: it holds the database at most
 * a fifth of its time, so workers running meanwhile keep (on SQLite, get) the write lock most of the time.
 */
const REST_PER_BATCH = 4

/** Deletes (dryRun: counts) tasks of these ended statuses unmodified for `olderThanMs`, runs and chunks too. */
export async function purgeTasks(
  backend: Backend,
  opts: { statuses: Status[]; olderThanMs: number; dryRun: boolean; stop?: AbortSignal },
): Promise<number> {
  const statuses = [...new Set(opts.statuses.filter(isTerminal))]
  if (statuses.length === 0) return 0
  // Read once, by the database's clock: tasks ending while a long purge runs are not its to chase.
  const { at } = await backend.db
    .selectNoFrom(backend.nowPlusSeconds(-opts.olderThanMs / 1000).as('at'))
    .executeTakeFirstOrThrow()
  const cutoff = backend.toIso(at)
  if (opts.dryRun) {
    const row = await backend.db
      .selectFrom('sq_tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', statuses)
      .where('modified', '<', cutoff)
      .executeTakeFirstOrThrow()
    return Number(row.n)
  }
  let deleted = 0
  for (const status of statuses) deleted += await deleteEnded(backend, status, cutoff, opts.stop)
  return deleted
}

/**
 * Deletes the tasks of one status modified before `cutoff`, a batch per write, until none is left or
 * `stop` aborts. Each batch walks the status index onward from the last one's newest `modified` (ties
 * included: the rows of it already deleted are skipped as dead), not from the oldest: on PostgreSQL the
 * rows deleted stay in the index until vacuumed, and walking them again would slow each batch.
 * Picked as a claim picks (lockForClaim), so a row requeued meanwhile is judged as it is now and kept;
 * deleted by primary key (the pick's conditions again would walk SQLite's status range).
 */
async function deleteEnded(backend: Backend, status: Status, cutoff: string, stop?: AbortSignal): Promise<number> {
  let deleted = 0
  const batch = deleteBatch(backend)
  let from: string | null = null
  while (!stop?.aborted) {
    const began = performance.now()
    const rows: { modified: Date | string }[] = await backend.exclusive((trx) =>
      trx.db
        .deleteFrom('sq_tasks')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('sq_tasks')
            .select('id')
            .where('status', '=', status)
            .where('modified', '<', cutoff)
            .$call((qb) => (from === null ? qb : qb.where('modified', '>=', from)))
            .orderBy('modified')
            .limit(batch)
            .modifyEnd(sql.raw(backend.spelling.lockForClaim)),
        )
        .returning('modified')
        .execute(),
    )
    deleted += rows.length
    if (rows.length < batch) break
    // Read back as ISO text (PostgreSQL's to the ms: a bound a little earlier only re-walks a few dead rows).
    from =
      rows
        .map((r) => backend.toIso(r.modified))
        .sort()
        .at(-1) ?? null
    await new Promise((resolve) => setTimeout(resolve, (performance.now() - began) * REST_PER_BATCH))
  }
  return deleted
}

/** Ids of tasks in the given statuses (of one queue if named), newest first (for `requeue --status`). */
export async function idsWithStatus(
  backend: Backend,
  statuses: Status[],
  o: { queue?: string } = {},
): Promise<string[]> {
  if (statuses.length === 0) return []
  const rows = await newestFirst<{ id: string }>(backend, {
    select: '"id", "modified"',
    statuses,
    where: (p) => [o.queue !== undefined && `"queue" = ${p(o.queue)}`],
    limit: 100_000,
  })
  return rows.map((r) => r.id)
}
