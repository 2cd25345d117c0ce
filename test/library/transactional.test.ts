import assert from 'node:assert/strict'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely'
import pg from 'pg'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { UUID, writeTaskModule } from '../helpers/sq.js'
import { assertAnnouncedAtCommit } from '../helpers/announced.js'
import {
  createTask,
  defineTasks,
  enqueueMany,
  openQueue,
  StorageError,
  type Executor,
  type Queue,
} from '../../src/index.js'

/**
 * By name: under mocha's tsx loader a module imported lazily (storage/executor.ts) gets its own copy of
 * errors.ts, whose classes are not the ones this file imported. (Built, there is one copy.)
 */
const isStorageError = (e: Error) => e.name === StorageError.name

/** The app's own handles on the queue's database: a raw connection, and a Kysely over another. */
interface App {
  raw: Executor
  exec(statement: string): Promise<void>
  kysely: Kysely<unknown>
  close(): Promise<void>
}

async function openApp(db: TestDatabase): Promise<App> {
  if (db.dialect === 'postgres') {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const kysely = new Kysely({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url, max: 2 }) }),
    })
    return {
      raw: client,
      exec: async (s) => void (await client.query(s)),
      kysely,
      close: async () => void (await Promise.all([client.end(), kysely.destroy()])),
    }
  }
  const native = new BetterSqlite3(db.url, { timeout: 5000 })
  const kysely = new Kysely({ dialect: new SqliteDialect({ database: new BetterSqlite3(db.url, { timeout: 5000 }) }) })
  return {
    raw: native,
    exec: async (s) => void native.exec(s),
    kysely,
    close: async () => {
      native.close()
      await kysely.destroy()
    },
  }
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `enqueue in the app's transaction (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let app: App
    const count = async () => (await queue.list({ limit: 1000 })).length

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      queue = await openQueue({ db: db.url, root: db.dir })
      app = await openApp(db)
    })
    after(async () => {
      await app?.close()
      await queue?.close()
      await db?.drop()
    })

    it('on a raw connection: a rolled-back transaction leaves no task, a committed one leaves it queued', async () => {
      const before = await count()
      await app.exec('BEGIN')
      const lost = await createTask({ task: 'tasks#hello', args: { name: 'lost' }, executor: app.raw }, queue)
      assert.match(lost, UUID)
      await app.exec('ROLLBACK')
      assert.equal(await count(), before)
      await assert.rejects(queue.get(lost), /no task/)

      await app.exec('BEGIN')
      const kept = await createTask({ task: 'tasks#hello', args: { name: 'kept' }, executor: app.raw }, queue)
      assert.equal(await count(), before, 'not visible to others before the commit')
      await app.exec('COMMIT')
      const task = await queue.get(kept)
      assert.equal(task.status, 'queued')
      assert.deepEqual(task.args, { name: 'kept' })
    })

    it('in a Kysely transaction: a throw rolls the task back, a commit keeps it', async () => {
      const before = await count()
      let lost = ''
      await assert.rejects(
        app.kysely.transaction().execute(async (trx) => {
          lost = await createTask({ task: 'tasks#hello', executor: trx }, queue)
          throw new Error('signup failed')
        }),
        /signup failed/,
      )
      assert.match(lost, UUID)
      assert.equal(await count(), before)
      const kept = await app.kysely
        .transaction()
        .execute((trx) => createTask({ task: 'tasks#hello', executor: trx }, queue))
      assert.equal((await queue.get(kept)).status, 'queued')
      // A Kysely instance outside a transaction: its statement commits by itself.
      const alone = await createTask({ task: 'tasks#hello', executor: app.kysely }, queue)
      assert.equal((await queue.get(alone)).status, 'queued')
    })

    it('enqueueMany and the typed API write every task in the transaction, keys as outside it', async () => {
      const before = await count()
      await app.exec('BEGIN')
      await enqueueMany([{ task: 'tasks#hello' }, { task: 'tasks#hello', key: 'k' }], { queue, executor: app.raw })
      await app.exec('ROLLBACK')
      assert.equal(await count(), before)

      await app.exec('BEGIN')
      const ids = await enqueueMany(
        [{ task: 'tasks#hello' }, { task: 'tasks#hello', key: 'k' }, { task: 'tasks#hello', key: 'k' }],
        { queue, executor: app.raw, chunkSize: 1 },
      )
      const typed = defineTasks<{ 'tasks#hello': (a: { name?: string }) => string }>(queue)
      const one = await typed.createTask('tasks#hello', { name: 'typed' }, { key: 'k', executor: app.raw })
      const many = await typed.enqueueMany('tasks#hello', [{ name: 'a' }, { name: 'b' }], { executor: app.raw })
      await app.exec('COMMIT')
      assert.equal(ids[2], ids[1], 'an earlier item of the batch holds the key')
      assert.equal(one, ids[1], 'a key held in the same transaction gives its task')
      assert.equal(await count(), before + 4)
      assert.deepEqual((await queue.get(many[1]!)).args, { name: 'b' })
    })

    it('a key held by a queued task gives its id, and the transaction goes on', async () => {
      const held = await createTask({ task: 'tasks#hello', key: 'held' }, queue)
      await app.exec('BEGIN')
      assert.equal(await createTask({ task: 'tasks#hello', key: 'held', executor: app.raw }, queue), held)
      const after = await createTask({ task: 'tasks#hello', executor: app.raw }, queue)
      await app.exec('COMMIT')
      assert.equal((await queue.get(after)).status, 'queued')
    })

    it('refuses an executor of an unknown shape with a TypeError naming what is accepted', async () => {
      const before = await count()
      for (const executor of [{}, 42, null, 'postgres://x']) {
        await assert.rejects(
          createTask({ task: 'tasks#hello', executor: executor as unknown as Executor }, queue),
          (e: Error) =>
            e instanceof TypeError && /pg Client.*Kysely.*better-sqlite3.*query\(text, values\)/.test(e.message),
        )
      }
      assert.equal(await count(), before)
    })

    it('refuses an executor on another database, writing nothing', async () => {
      const other = await createTestDatabase(dialect)
      const otherQueue = await openQueue({ db: other.url, root: db.dir })
      const otherApp = await openApp(other)
      try {
        const before = await count()
        await assert.rejects(
          createTask({ task: 'tasks#hello', executor: otherApp.raw }, queue),
          (e: Error) => isStorageError(e) && /another database/.test(e.message),
        )
        await assert.rejects(
          enqueueMany([{ task: 'tasks#hello' }], { queue, executor: otherApp.kysely }),
          /another database/,
        )
        assert.equal(await count(), before)
        assert.equal((await otherQueue.list({ limit: 10 })).length, 0)
      } finally {
        await otherApp.close()
        await otherQueue.close()
        await other.drop()
      }
    })

    it('passes a closed connection’s error through as a StorageError', async () => {
      const closed = await openApp(db)
      await closed.close()
      await assert.rejects(
        createTask({ task: 'tasks#hello', executor: closed.raw }, queue),
        (e: Error) => isStorageError(e) && e.cause !== undefined,
      )
    })

    // What only PostgreSQL has: NOTIFY, a transaction an error aborts, a search_path.
    if (dialect !== 'postgres') return

    it('announces the task at the commit, not before: an idle worker hears it then', async () => {
      await assertAnnouncedAtCommit(db.url, app.raw as pg.Client, 'mail', () =>
        createTask({ task: 'tasks#hello', queue: 'mail', executor: app.raw }, queue),
      )
    })

    it('passes an aborted transaction’s error through as a StorageError', async () => {
      const before = await count()
      await app.exec('BEGIN')
      await assert.rejects(app.exec('select 1/0'))
      await assert.rejects(
        createTask({ task: 'tasks#hello', executor: app.raw }, queue),
        (e: Error) => isStorageError(e) && /current transaction is aborted/.test(e.message),
      )
      await app.exec('ROLLBACK')
      assert.equal(await count(), before)
    })

    it('says to run sq migrate where sq’s tables are not, leaving the transaction usable', async () => {
      await app.exec('BEGIN')
      await app.exec('CREATE SCHEMA elsewhere')
      await app.exec('SET LOCAL search_path TO elsewhere')
      // A client of its own shape, so that the check is not the cached one of app.raw.
      const client = app.raw as pg.Client
      const plain = { query: (text: string, values: unknown[]) => client.query(text, values) }
      await assert.rejects(createTask({ task: 'tasks#hello', executor: plain }, queue), /run `sq migrate`/)
      await app.exec('SET LOCAL search_path TO public')
      const id = await createTask({ task: 'tasks#hello', executor: { query: plain.query } }, queue)
      await app.exec('COMMIT')
      assert.equal((await queue.get(id)).status, 'queued')
    })
  })
}
