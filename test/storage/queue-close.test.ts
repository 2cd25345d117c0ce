import assert from 'node:assert/strict'
import fs from 'node:fs'
import pg from 'pg'
import { openQueue } from '../../src/index.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { writeTaskModule } from '../helpers/sq.js'
import { sleep } from '../helpers/wait.js'

/** Sessions other than this one on the test database, as the server counts them. */
async function otherSessions(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const { rows } = await c.query<{ n: number }>(
      // Client sessions only: an autovacuum worker shows there too.
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
    )
    return rows[0]!.n
  } finally {
    await c.end()
  }
}

/**
 * A queue whose statements all ran on its connection, outside Kysely (`sq list`, `sq show` and a
 * `sq cancel` of an unknown id through oclif do so, with the whole backend loaded), must still close
 * its database connection when closed. Before, PostgreSQL's pool stayed open until its 10 s idle
 * timeout and kept the command's process alive as long; SQLite's handle was never closed, so its
 * write-ahead log was left beside the database.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `closing a queue that ran no Kysely query (${dialect})`, () => {
    let db: TestDatabase
    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
    })
    after(async () => db?.drop())

    it('closes its database connection', async () => {
      // The first open migrates the new database (through Kysely); the second finds it current.
      const first = await openQueue({ db: db.url, root: db.dir })
      await first.enqueue({ task: 'tasks#hello' })
      await first.close()
      const queue = await openQueue({ db: db.url, root: db.dir }) // the whole backend, as commands open it
      assert.equal((await queue.list({ limit: 5 })).length, 1)
      await queue.close()
      if (dialect === 'postgres') {
        // A closed session leaves pg_stat_activity a moment after its socket closes.
        let open = await otherSessions(db.url)
        for (let i = 0; open > 0 && i < 40; i++) {
          await sleep(50)
          open = await otherSessions(db.url)
        }
        assert.equal(open, 0, 'sessions still open on the database after close()')
      } else {
        assert.equal(fs.existsSync(`${db.url}-wal`), false, 'the closed database still has its -wal file')
      }
    })
  })
}
