import { type Backend, runStatement, type SqlRunner, statement } from './backend.js'
import { newTasksJson, queueCounts, type NewTask } from './task-repository.js'
import { newTaskInsert } from './task-row.js'

/** What a bulk insert writes with: a backend, or an app's transaction (executor.ts). */
export type BulkWriter = Pick<Backend, 'spelling' | 'copyNewTasks' | 'announceQueued'> & {
  writeTransaction<T>(fn: (trx: SqlRunner) => Promise<T>): Promise<T>
}

/** Rows per INSERT statement. */
const ROWS_PER_STATEMENT = 5000

/**
 * The INSERT of a chunk, newTasksJson as ONE parameter: one text, no parameter limit, no VALUES list (PostgreSQL plans
 * it ~8× longer than the insert) nor arrays (pg escapes them in JavaScript); `keyed`, returns those inserted.
 */
function insertChunk(trx: SqlRunner, keyed: boolean, rows: string) {
  const { spelling } = trx
  const sql = (p: () => string) => {
    const field = (i: number, type?: string) => spelling.cast(`r.value ->> ${i}`, type)
    const runAt = `coalesce(${field(7, 'timestamptz')}, ${spelling.nowPlusSeconds(field(8))})`
    const { columns, values } = newTaskInsert(spelling.now, field, runAt)
    const insert = `insert into "sq_tasks" ${columns} select ${values} from ${spelling.orderedJsonRows(p())}`
    // ON CONFLICT DO NOTHING: the only unique constraint a new row can break is the active key (ids are
    // fresh UUIDs); the rows that lost are found by their key (insertWithKeys).
    return keyed ? `${insert} on conflict do nothing returning "id"` : insert
  }
  return runStatement<{ id: string }>(trx, keyed ? 'insert_keyed_tasks' : 'insert_tasks', sql, [rows])
}

const chunks = (batch: NewTask[]) =>
  Array.from({ length: Math.ceil(batch.length / ROWS_PER_STATEMENT) }, (_, i) =>
    newTasksJson(batch.slice(i * ROWS_PER_STATEMENT, (i + 1) * ROWS_PER_STATEMENT)),
  )

/**
 * Inserts validated tasks in order in one write transaction (the caller chunks). A task whose key an active task holds
 * (maybe one of the batch) gets its id, `created: false`. The commit awaits `beforeCommit`; rolls back if it rejects.
 */
export async function insertTasks(
  backend: BulkWriter,
  batch: NewTask[],
  beforeCommit?: Promise<void>,
): Promise<{ id: string; created: boolean }[]> {
  if (batch.some((t) => t.key !== null)) return insertWithKeys(backend, batch, beforeCommit)
  // Without keys no row can lose (ids are fresh UUIDs): nothing to return, nothing to look up.
  if (backend.copyNewTasks && batch.every(runsNow)) await backend.copyNewTasks(batch, beforeCommit)
  else
    await backend.writeTransaction(async (trx) => {
      await insertUnkeyed(backend, trx, batch)
      await beforeCommit
    })
  return batch.map((t) => ({ id: t.id, created: true }))
}

/** Inserts new tasks none of which can lose its key, and announces their queues, in `trx`. */
export async function insertUnkeyed(backend: BulkWriter, trx: SqlRunner, batch: NewTask[]): Promise<void> {
  for (const rows of chunks(batch)) await insertChunk(trx, false, rows)
  await backend.announceQueued(trx, queueCounts(batch))
}

const runsNow = (t: NewTask) => 'afterSeconds' in t.runAt && t.runAt.afterSeconds === 0

async function insertWithKeys(
  backend: BulkWriter,
  batch: NewTask[],
  beforeCommit: Promise<void> | undefined,
): Promise<{ id: string; created: boolean }[]> {
  return backend.writeTransaction(async (trx) => {
    const inserted = new Set<string>()
    for (const rows of chunks(batch)) {
      for (const r of await insertChunk(trx, true, rows)) inserted.add(r.id)
    }
    const lost = [...new Set(batch.filter((t) => t.key !== null && !inserted.has(t.id)).map((t) => t.key))].map(
      (key) => [key],
    )
    const rows = lost.length === 0 ? [] : await trx.query<TaskKey>(holdersSql(backend), [JSON.stringify(lost)])
    const holders = new Map(rows.map((r) => [r.key, r.id]))
    await backend.announceQueued(trx, queueCounts(batch.filter((t) => inserted.has(t.id))))
    await beforeCommit
    // Inside one write transaction no holder can end between the insert and this read.
    return batch.map((t) =>
      inserted.has(t.id) ? { id: t.id, created: true } : { id: holders.get(t.key!)!, created: false },
    )
  })
}

/** The queued or running tasks that hold keys, the keys one JSON parameter (SqlSpelling.jsonRows). */
type TaskKey = { id: string; key: string }
const holdersSql = (backend: BulkWriter) =>
  statement(
    backend,
    'key_holders',
    () => `select "id", "key" from "sq_tasks" where "status" in ('queued', 'progress')
      and "key" in (select r.value ->> 0 from ${backend.spelling.jsonRows(backend.spelling.param(1))})`,
  )
