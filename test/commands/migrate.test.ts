import assert from 'node:assert/strict'
import fs from 'node:fs'
import { spawnSync } from 'node:child_process'
import pg from 'pg'
import { LATEST_MIGRATION } from '../../src/storage/schema-version.js'
import { cleanEnv, runSq, SQ_BIN } from '../helpers/cli.js'
import { createTestDatabase, DIALECTS, type TestDatabase } from '../helpers/db.js'
import { assertOneLineError, writeTaskModule } from '../helpers/sq.js'

const ID = '00000000-0000-4000-8000-000000000000'

/** Every command that only reads or changes existing tasks: none may create a database (SPEC §5). */
const READERS: string[][] = [
  ['list'],
  ['list', '-q'],
  ['show', ID],
  ['stats'],
  ['cancel', ID],
  ['requeue', ID],
  ['purge'],
  ['pause', 'emails'],
  ['resume', 'emails'],
  ['schedules'],
  ['serve', '--port', '0'],
]

/** Does the database hold any table at all? (SQLite: does the file exist.) */
async function hasTables(db: TestDatabase): Promise<boolean> {
  if (db.dialect === 'sqlite') return fs.existsSync(db.url)
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    const { rows } = await client.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`)
    return rows[0].n > 0
  } finally {
    await client.end()
  }
}

for (const dialect of DIALECTS) {
  describe(`commands that read create no database; sq migrate does (${dialect})`, () => {
    let db: TestDatabase
    beforeEach(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
    })
    afterEach(async () => db.drop())
    const run = (args: string[], env: Record<string, string> = {}) =>
      runSq([...args, '--db', db.url], { cwd: db.dir, env, timeoutMs: 60_000 })

    it('list, show, stats, top, cancel, requeue, purge, pause, resume, schedules, serve: exit 1, one line, nothing created', async function () {
      this.timeout(120_000)
      const where = dialect === 'sqlite' ? db.url : 'postgres://'
      const results = await Promise.all([
        ...READERS.map((args) => run(args)),
        // The fast path and oclif alike.
        ...[['list'], ['show', ID]].map((args) => run(args, { SQ_CLI: 'oclif' })),
      ])
      results.forEach((r, i) => {
        assertOneLineError(r, 1, /^sq: no sq database at /)
        assert.ok(r.stderr.includes(where), `${READERS[i]?.join(' ')}: ${r.stderr}`)
      })
      // sq top needs a terminal before it opens the database: `script` gives it a pseudo-terminal.
      const top = spawnSync('script', ['-qec', `${process.execPath} ${SQ_BIN} top --db ${db.url}`, '/dev/null'], {
        cwd: db.dir,
        env: cleanEnv(),
        encoding: 'utf8',
        timeout: 30_000,
      })
      assert.equal(top.status, 1, top.stdout)
      assert.match(top.stdout, /^sq: no sq database at /)
      assert.equal(await hasTables(db), false, 'nothing was created')
      if (dialect === 'sqlite') assert.deepEqual(fs.readdirSync(db.dir).sort(), ['tasks.ts'])
    })

    it('sq migrate creates the database and says so; a second run finds it up to date; then the readers work', async function () {
      this.timeout(60_000)
      const first = await run(['migrate'])
      assert.equal(first.code, 0, first.stderr)
      assert.match(first.stdout, new RegExp(`migrated to ${LATEST_MIGRATION} \\(\\d+ migrations applied\\)\n$`))
      assert.equal(await hasTables(db), true)
      const again = await run(['migrate', '--json'])
      assert.equal(again.code, 0, again.stderr)
      const result = JSON.parse(again.stdout)
      assert.deepEqual(result.applied, [])
      assert.equal(result.migration, LATEST_MIGRATION)
      const listed = await run(['list'])
      assert.equal(listed.code, 0, listed.stderr)
      assert.equal(listed.stdout, 'No tasks.\n')
    })

    it('sq enqueue still creates the database on first use', async () => {
      const r = await run(['enqueue', 'tasks#hello'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(await hasTables(db), true)
    })
  })
}
