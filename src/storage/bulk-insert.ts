import { sql, type RawBuilder } from 'kysely'
import type { Backend, BackendName } from './dialect.js'
import type { NewTask } from './task-repository.js'

/**
 * Rows per INSERT statement. The rows travel as ONE parameter (a JSON array, or PostgreSQL arrays), so
 * the statement's text is the same for every chunk — prepared once — and no parameter limit applies.
 */
const ROWS_PER_STATEMENT = 5000

const COLUMNS = sql`(id, task, args, status, queue, priority, max_attempts, attempts, key, created, modified, run_at)`

/**
 * The rows of one multi-row insert, as a SELECT each database unpacks itself. Per dialect, as a
 * multi-row VALUES list is what the two do differently well: a 1,000-row VALUES with 9,000 parameters
 * costs PostgreSQL more to parse and plan than to insert (~8× slower than unnest of arrays), and
 * SQLite binds and steps it slower than reading one JSON text with json_each.
 */
const ROW_SOURCE: Record<BackendName, (rows: NewTask[]) => RawBuilder<unknown>> = {
  postgres: (rows) => sql`
    SELECT t.id, t.task, t.args, 'queued', t.queue, t.priority, t.max_attempts, 0, t.key, now(), now(),
           coalesce(t.run_at, now() + make_interval(secs => t.after_seconds))
    FROM unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.task)}::text[], ${rows.map((r) => r.argsJson)}::text[],
                ${rows.map((r) => r.queue)}::text[], ${rows.map((r) => r.priority)}::int[], ${rows.map((r) => r.maxAttempts)}::int[],
                ${rows.map((r) => r.key)}::text[], ${rows.map((r) => ('at' in r.runAt ? r.runAt.at : null))}::timestamptz[],
                ${rows.map((r) => ('at' in r.runAt ? 0 : r.runAt.afterSeconds))}::float8[])
         WITH ORDINALITY AS t(id, task, args, queue, priority, max_attempts, key, run_at, after_seconds, n)
    ORDER BY t.n`,
  sqlite: (rows) => sql`
    SELECT r.value ->> 0, r.value ->> 1, r.value ->> 2, 'queued', r.value ->> 3, r.value ->> 4, r.value ->> 5, 0, r.value ->> 6,
           ${sql.raw(ISO_NOW)}, ${sql.raw(ISO_NOW)},
           coalesce(r.value ->> 7, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (r.value ->> 8) || ' seconds'))
    FROM json_each(${JSON.stringify(rows.map((r) => [r.id, r.task, r.argsJson, r.queue, r.priority, r.maxAttempts, r.key, 'at' in r.runAt ? r.runAt.at : null, 'at' in r.runAt ? 0 : r.runAt.afterSeconds]))}) AS r
    WHERE true -- SQLite's parser needs a WHERE between INSERT … SELECT and ON CONFLICT
    ORDER BY r.key -- json_each's key: the index in the array, so the batch keeps its order`,
}

const ISO_NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`

/**
 * Inserts tasks already validated, in order, in one write transaction (the caller chunks). A task
 * whose key is held by a queued or running task — another one, or an earlier one of the same batch —
 * is not inserted and gets that task's id with `created: false`, as insertTask does for one.
 */
export async function insertTasks(d: Backend, batch: NewTask[]): Promise<{ id: string; created: boolean }[]> {
  return d.writeTransaction(async (trx) => {
    const inserted = new Set<string>()
    for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
      // ON CONFLICT DO NOTHING: the only unique constraint a new row can break is the active key
      // (ids are fresh UUIDs); the rows that lost are found by their key below.
      const { rows } = await sql<{ id: string }>`
        INSERT INTO sq_tasks ${COLUMNS} ${ROW_SOURCE[d.name](batch.slice(i, i + ROWS_PER_STATEMENT))}
        ON CONFLICT DO NOTHING RETURNING id`.execute(trx)
      for (const r of rows) inserted.add(r.id)
    }
    const lostKeys = [...new Set(batch.filter((t) => t.key !== null && !inserted.has(t.id)).map((t) => t.key!))]
    const holders = new Map<string, string>()
    for (let i = 0; i < lostKeys.length; i += 1000) {
      const rows = await trx
        .selectFrom('sq_tasks')
        .select(['id', 'key'])
        .where('key', 'in', lostKeys.slice(i, i + 1000))
        .where('status', 'in', ['queued', 'progress'])
        .execute()
      for (const r of rows) holders.set(r.key!, r.id)
    }
    // Inside one write transaction no holder can end between the insert and this read.
    return batch.map((t) => (inserted.has(t.id) ? { id: t.id, created: true } : { id: holders.get(t.key!)!, created: false }))
  })
}
