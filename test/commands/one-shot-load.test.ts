import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { sqOk, writeTaskModule } from '../helpers/sq.js'

/**
 * A one-shot `sq enqueue`, `show` or `list` on a current schema runs SQL written out on the driver's
 * connection and loads no query builder (storage/task-repository.ts): Kysely costs such a command about
 * as much as its own work. A schema to migrate loads it, and the command still works.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url))
const MODULE_LOG = path.resolve(HERE, '../helpers/module-log.mjs')

/** The bundle's files among the modules a run resolved that hold some of Kysely. */
function kyselyChunks(log: string): string[] {
  return fs
    .readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith('file:') && u.includes('/dist/bundle/'))
    .map((u) => fileURLToPath(u))
    .filter((file) => fs.readFileSync(file, 'utf8').includes('// node_modules/kysely/'))
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `one-shot commands without Kysely (${dialect})`, function () {
    this.timeout(120_000)
    let db: TestDatabase
    let log: string
    /** `sq ...args`, with the modules it resolves in `log` (of this run only). */
    const logged = (args: string[]) => {
      fs.writeFileSync(log, '')
      return sqOk(db, args, { env: { NODE_OPTIONS: `--import ${MODULE_LOG}`, SQ_TEST_MODULE_LOG: log } })
    }

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      log = path.join(db.dir, 'modules.txt')
    })
    after(async () => db?.drop())

    it('migrates a new database with Kysely, then enqueues, shows and lists without it', async () => {
      const first = (await logged(['enqueue', 'tasks#hello'])).trim()
      assert.ok(kyselyChunks(log).length > 0, 'the migration loaded Kysely')
      for (const args of [
        ['enqueue', 'tasks#hello', '--key', 'k', '--delay', '1m'],
        ['enqueue', 'tasks#hello', '--key', 'k', '--json'],
        ['enqueue', 'tasks#hello', '--at', '2030-01-01T00:00:00Z', '--json'],
        ['show', first],
        ['show', first.slice(0, 8), '--json'],
        ['list'],
        ['list', '--status', 'queued', '--task', 'tasks*', '--search', 'hello', '--since', '1h', '--json'],
      ]) {
        await logged(args)
        assert.deepEqual(kyselyChunks(log), [], `sq ${args.join(' ')} loaded Kysely`)
      }
      const listed = JSON.parse(await logged(['list', '--json'])) as { id: string; key: string | null }[]
      assert.equal(listed.length, 3, 'the keyed enqueue added one task, its repeat none')
      assert.equal(listed.filter((t) => t.key === 'k').length, 1)
      assert.ok(listed.some((t) => t.id === first))
    })
  })
}
