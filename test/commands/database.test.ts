import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createTestDatabase, DIALECTS, describeOn, itOn, openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { runSq } from '../helpers/cli.js'
import { SqProcess } from '../helpers/worker.js'
import { openQueue } from '../../src/index.js'
import { assertOneLineError, countTasks, sq, writeTaskModule } from '../helpers/sq.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `first start on a brand-new database (${dialect})`, () => {
    const dbs: TestDatabase[] = []
    after(async () => {
      for (const db of dbs) await db.drop()
    })

    it('six sq enqueue and six sq migrate started at once all succeed, and the schema is created once', async function () {
      this.timeout(120_000)
      const [a, b] = await Promise.all([createTestDatabase(dialect), createTestDatabase(dialect)])
      dbs.push(a, b)
      writeTaskModule(a.dir)
      const results = await Promise.all([
        ...Array.from({ length: 6 }, (_, i) => sq(a, ['enqueue', 'tasks#hello', '--arg', `i=${i}`])),
        ...Array.from({ length: 6 }, () => sq(b, ['migrate', '--json'])),
      ])
      for (const r of results) assert.equal(r.code, 0, r.stderr)
      const applied = results.slice(6).flatMap((r) => JSON.parse(r.stdout).applied as string[])
      assert.equal(applied.length, 10, `the six sq migrate applied each migration once between them: ${applied}`)
      for (const db of [a, b]) {
        const d = await openTestDatabase(db)
        try {
          const migrations = (await d.db
            .selectFrom('sq_migration' as never)
            .selectAll()
            .execute()) as Array<{ name: string }>
          assert.deepEqual(
            migrations.map((m) => m.name).sort(),
            [
              '001-initial',
              '002-notify-triggers',
              '003-schedules-and-pauses',
              '004-notify-per-statement',
              '005-drop-modified-index',
              '006-ids-in-byte-order',
              '007-cheaper-index-keys',
              '008-inserts-announce-themselves',
              '009-claim-counter-and-runs',
              '010-enqueue-function',
            ],
            'each migration ran once',
          )
          assert.equal(await countTasks(d), db === a ? 6 : 0)
        } finally {
          await d.close()
        }
      }
    })
  })
}

describe('databases that cannot be used', () => {
  const secret = 'S3cretPw'
  let dir: string
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-test-'))
    writeTaskModule(dir)
  })
  after(() => fs.rmSync(dir, { recursive: true, force: true }))

  const run = (args: string[], env: Record<string, string> = {}) => runSq(args, { cwd: dir, env, timeoutMs: 60_000 })

  it('an unreachable PostgreSQL server: exit 1, one line, the password printed nowhere', async () => {
    const url = `postgres://root:${secret}@127.0.0.1:1/x`
    const results = await Promise.all([
      run(['list', '--db', url]),
      run(['list', '--json'], { SQ_DATABASE_URL: url }),
      run(['enqueue', 'tasks#hello', '--db', url]),
      run(['list', '--db', url, '--verbose']),
      run(['show', 'abcdef12', '--db', `postgresql://root:${encodeURIComponent(`p@ss/${secret}`)}@127.0.0.1:1/x`]),
    ])
    for (const r of results.slice(0, 3)) assertOneLineError(r, 1)
    assert.equal(results[3]!.code, 1)
    assertOneLineError(results[4]!, 1)
    for (const r of results) {
      assert.ok(!(r.stdout + r.stderr).includes(secret), `password leaked: ${r.stdout}${r.stderr}`)
      assert.ok(!(r.stdout + r.stderr).includes('p@ss'), `password leaked: ${r.stdout}${r.stderr}`)
    }
    assert.match(results[0]!.stderr, /127\.0\.0\.1|ECONNREFUSED|connect/)
  })

  it('no form of a PostgreSQL URL prints its password, in the errors of any command', async function () {
    this.timeout(180_000)
    const id = '00000000-0000-4000-8000-000000000000'
    const commands = [
      ['list'],
      ['list', '--json'],
      ['stats'],
      ['enqueue', 'tasks#hello'],
      ['cancel', id],
      ['requeue', id],
      ['worker', '--burst'],
    ]
    // [url, exit code, what must not be printed]: the server at port 1 is closed (exit 1); a URL that
    // cannot be read is bad input (exit 2).
    const forms: Array<[string, number, string[]]> = [
      [`postgres://root@127.0.0.1:1/x?password=${secret}`, 1, [secret]],
      [`postgres://root@127.0.0.1:1/x?sslmode=disable&PassWord=${secret}`, 1, [secret]],
      [`postgres://root:Pa55@${secret}@127.0.0.1:1/x`, 1, ['Pa55', secret]],
      [`postgres://root:${encodeURIComponent(`Pa55@/:${secret}`)}@127.0.0.1:1/x`, 1, ['Pa55', secret]],
      [`postgres://root:Pa55/${secret}@127.0.0.1:1/x`, 2, ['Pa55', secret]],
      [`postgres://root:${secret}@127.0.0.1:notaport/x`, 2, [secret]],
    ]
    for (const [url, code, hidden] of forms) {
      const results = await Promise.all(commands.map((args) => run([...args, '--db', url])))
      results.forEach((r, i) => {
        assertOneLineError(r, code)
        for (const part of hidden)
          assert.ok(
            !(r.stdout + r.stderr).includes(part),
            `sq ${commands[i]!.join(' ')} --db ${url} printed ${part}: ${r.stderr}`,
          )
      })
    }
  })

  it('a malformed PostgreSQL URL is bad input: exit 2, naming the problem', async () => {
    const [port, noHost, badEscape] = await Promise.all([
      run(['list', '--db', 'postgres://host:notaport/db']),
      run(['list', '--db', `postgres://root:${secret}@/db`]),
      run(['list'], { SQ_DATABASE_URL: `postgresql://root:${secret}%C3@127.0.0.1/db` }),
    ])
    assertOneLineError(port, 2, /malformed PostgreSQL URL postgres:\/\/host:notaport\/db: its port is not a number/)
    assertOneLineError(noHost, 2, /malformed PostgreSQL URL postgres:\/\/root:\*\*\*@\/db: it names no host/)
    assertOneLineError(badEscape, 2, /malformed PostgreSQL URL/)
    for (const r of [noHost, badEscape]) assert.ok(!r.stderr.includes(secret), r.stderr)
  })

  itOn(
    'postgres',
    "a password given as ?password= is hidden in the worker's start line, sq serve's and sq top's header",
    async function () {
      this.timeout(60_000)
      const db = await createTestDatabase('postgres')
      try {
        // Trust authentication accepts any password, so the URL works and its password must stay hidden.
        const url = `${db.url}?application_name=sq-test&password=${secret}`
        const worker = await run(['worker', '--burst', '--db', url])
        assert.equal(worker.code, 0, worker.stderr)
        assert.match(
          worker.stdout,
          /started: .*database postgres:\/\/postgres@127\.0\.0\.1:5432\/sq_test_\w+\?application_name=sq-test&password=\*\*\*\n/,
        )
        const serve = new SqProcess(['serve', '--port', '0', '--db', url], { cwd: dir })
        try {
          await serve.waitForOutput(/Ctrl-C stops/)
        } finally {
          serve.signal('SIGTERM')
          await serve.exit
        }
        assert.match(serve.stdout, /database postgres:\/\/postgres@[^ ]*password=\*\*\*\)/)
        // What sq top's header shows.
        const queue = await openQueue({ db: url, root: dir })
        const shown = queue.displayUrl
        await queue.close()
        assert.match(shown, /password=\*\*\*$/)
        for (const out of [worker.stdout + worker.stderr, serve.output, shown]) assert.ok(!out.includes(secret), out)
      } finally {
        await db.drop()
      }
    },
  )

  itOn('postgres', 'a PostgreSQL database that does not exist: exit 1, one line, no password', async () => {
    const r = await run(['list', '--db', `postgres://postgres:${secret}@127.0.0.1:5432/sq_no_such_database_x`])
    assertOneLineError(r, 1, /sq_no_such_database_x/)
    assert.ok(!(r.stdout + r.stderr).includes(secret))
  })

  it('an SQLite file in a directory that does not exist: exit 1, one line, nothing created', async () => {
    const results = await Promise.all([
      run(['list', '--db', path.join(dir, 'missing', 'q.db')]),
      run(['enqueue', 'tasks#hello', '--db', `sqlite:${path.join(dir, 'missing', 'q.db')}`]),
    ])
    for (const r of results) assertOneLineError(r, 1, /missing/)
    assert.ok(!fs.existsSync(path.join(dir, 'missing')))
  })

  it('an unsupported URL scheme is bad input (exit 2) and hides its password', async () => {
    const r = await run(['list', '--db', `mysql://root:${secret}@127.0.0.1/x`])
    assertOneLineError(r, 2, /unsupported/)
    assert.ok(!(r.stdout + r.stderr).includes(secret))
  })

  it('a new SQLite database file is readable by its owner only (0600)', async () => {
    const file = path.join(dir, 'fresh.db')
    const r = await run(['migrate', '--db', `sqlite:${file}`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    for (const extra of [`${file}-wal`, `${file}-shm`]) {
      if (fs.existsSync(extra)) assert.equal(fs.statSync(extra).mode & 0o777, 0o600, extra)
    }
  })
})
