/**
 * What each database can do at best for a queue: claim one task and complete it, one by one, with no
 * queue library around it — on a copy of the same queued tasks sq runs (its table and indexes), so the
 * ratio sq ÷ floor is what sq's worker, processes and bookkeeping cost on top of the database. One by
 * one, as the simplest correct worker would: a worker that claims ahead or groups its verdicts into one
 * commit can pass it.
 */
import Database from 'better-sqlite3'
import type pg from 'pg'
import { copySqlite, createPgDatabase, dropPgDatabase, pgClient, pgUrl, removeSqlite, sqliteFile } from './env.js'
import { filledTemplate } from './sq.js'

const SQLITE_NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`

/** SQLite has one writer at a time, so the floor is one connection in a loop (WAL, synchronous=NORMAL, as sq). */
export async function sqliteFloor(n: number, runMs: number): Promise<number> {
  const file = sqliteFile('floor')
  copySqlite(await filledTemplate('sqlite', n), file)
  const db = new Database(file)
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    const claim = db.prepare<[], { id: string }>(`
      UPDATE sq_tasks
      SET status = 'progress', attempts = attempts + 1, started = ${SQLITE_NOW}, modified = ${SQLITE_NOW}
      WHERE id = (SELECT id FROM sq_tasks WHERE status = 'queued' AND queue = 'default' AND run_at <= ${SQLITE_NOW}
                  ORDER BY priority DESC, run_at, created LIMIT 1)
      RETURNING id`)
    const complete = db.prepare<[string]>(
      `UPDATE sq_tasks SET status = 'completed', finished = ${SQLITE_NOW}, modified = ${SQLITE_NOW} WHERE id = ?`,
    )
    let done = 0
    const start = performance.now()
    const deadline = start + runMs
    for (let row = claim.get(); row; row = performance.now() < deadline ? claim.get() : undefined) {
      complete.run(row.id)
      done++
    }
    return (done / (performance.now() - start)) * 1000
  } finally {
    db.close()
    removeSqlite(file)
  }
}

const PG_CLAIM = `
  UPDATE sq_tasks SET status = 'progress', attempts = attempts + 1, started = now(), modified = now()
  WHERE id = (SELECT id FROM sq_tasks WHERE status = 'queued' AND queue = 'default' AND run_at <= now()
              ORDER BY priority DESC, run_at, created LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING id`
const PG_COMPLETE = `UPDATE sq_tasks SET status = 'completed', finished = now(), modified = now() WHERE id = $1`

/**
 * PostgreSQL: `clients` connections, each claiming with SKIP LOCKED and completing, one task at a time,
 * every statement its own commit. sq's NOTIFY trigger is disabled: the floor is the database's alone.
 */
export async function postgresFloor(n: number, clients: number, runMs: number): Promise<number> {
  const name = await createPgDatabase('floor', await filledTemplate('postgres', n))
  const connections: pg.Client[] = []
  try {
    for (let i = 0; i < clients; i++) connections.push(await pgClient(pgUrl(name)))
    await connections[0]!.query('ALTER TABLE sq_tasks DISABLE TRIGGER USER')
    let deadline = Infinity
    const loop = async (c: pg.Client) => {
      let done = 0
      while (performance.now() < deadline) {
        const { rows } = await c.query<{ id: string }>({ name: 'claim', text: PG_CLAIM })
        if (rows.length === 0) return done
        await c.query({ name: 'complete', text: PG_COMPLETE, values: [rows[0]!.id] })
        done++
      }
      return done
    }
    const start = performance.now()
    deadline = start + runMs
    const done = (await Promise.all(connections.map(loop))).reduce((a, b) => a + b, 0)
    return (done / (performance.now() - start)) * 1000
  } finally {
    await Promise.all(connections.map((c) => c.end().catch(() => {})))
    await dropPgDatabase(name)
  }
}
