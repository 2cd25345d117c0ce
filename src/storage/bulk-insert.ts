import type { Dialect } from './dialect.js'
import type { NewTask } from './task-repository.js'

/**
 * Rows per INSERT statement: ~11 parameters a row stays well under SQLite's 32,766 and PostgreSQL's
 * 65,535, and one statement per chunk keeps the parse and round-trip cost per task small.
 */
const ROWS_PER_STATEMENT = 1000

/**
 * Inserts tasks already validated, in order, in one write transaction (the caller chunks). A task
 * whose key is held by a queued or running task — another one, or an earlier one of the same batch —
 * is not inserted and gets that task's id with `created: false`, as insertTask does for one.
 */
export async function insertTasks(d: Dialect, batch: NewTask[]): Promise<{ id: string; created: boolean }[]> {
  return d.writeTransaction(async (trx) => {
    const inserted = new Set<string>()
    for (let i = 0; i < batch.length; i += ROWS_PER_STATEMENT) {
      const rows = batch.slice(i, i + ROWS_PER_STATEMENT)
      // ON CONFLICT DO NOTHING: the only unique constraint a new row can break is the active key
      // (ids are fresh UUIDs); the rows that lost are found by their key below.
      const returned = await trx
        .insertInto('sq_tasks')
        .values(
          rows.map((t) => ({
            id: t.id,
            task: t.task,
            args: t.argsJson,
            status: 'queued' as const,
            queue: t.queue,
            priority: t.priority,
            max_attempts: t.maxAttempts,
            attempts: 0,
            key: t.key,
            created: d.now(),
            modified: d.now(),
            run_at: 'at' in t.runAt ? t.runAt.at : d.nowPlusSeconds(t.runAt.afterSeconds),
          })),
        )
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .execute()
      for (const r of returned) inserted.add(r.id)
    }
    const lostKeys = [...new Set(batch.filter((t) => t.key !== null && !inserted.has(t.id)).map((t) => t.key!))]
    const holders = new Map<string, string>()
    for (let i = 0; i < lostKeys.length; i += ROWS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('sq_tasks')
        .select(['id', 'key'])
        .where('key', 'in', lostKeys.slice(i, i + ROWS_PER_STATEMENT))
        .where('status', 'in', ['queued', 'progress'])
        .execute()
      for (const r of rows) holders.set(r.key!, r.id)
    }
    // Inside one write transaction no holder can end between the insert and this read.
    return batch.map((t) => (inserted.has(t.id) ? { id: t.id, created: true } : { id: holders.get(t.key!)!, created: false }))
  })
}
