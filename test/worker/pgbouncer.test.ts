import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { LATEST_MIGRATION } from '../../src/storage/schema-version.js'
import { runSq } from '../helpers/cli.js'
import { createTestDatabase, describeOn, PG_ADMIN_URL, type TestDatabase } from '../helpers/db.js'
import { type PgBouncer, startPgBouncer } from '../helpers/pgbouncer.js'
import { assertOneLineError } from '../helpers/sq.js'
import { sleep, waitFor } from '../helpers/wait.js'
import { killLeftovers, SqProcess } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** Server connections the bouncer keeps per database: fewer than the clients that go through it. */
const POOL_SIZE = 5
const WORKERS = 3
const WAITERS = 8
const BATCH = 40
/** The application name of the direct (listenUrl) connections, to tell them from the bouncer's. */
const DIRECT = 'sq_listen'

type Activity = { application_name: string; query: string }

/**
 * Workers behind a real PgBouncer (Debian's 1.18, no prepared statements in transaction mode) with LISTEN
 * going direct: tasks run, NOTIFY wakes the workers, and the server sees at most the bouncer's pool plus
 * one LISTEN connection for the host's workers (pg-relay.ts), which carries nothing else.
 */
describeOn('postgres', 'workers through PgBouncer in transaction mode, LISTEN direct (listenUrl)', function () {
  this.timeout(120_000)
  let db: TestDatabase
  let bouncer: PgBouncer
  let watcher: pg.Client
  let env: Record<string, string>
  const sq = (args: string[], input?: string) => runSq(args, { cwd: db.dir, env, input, timeoutMs: 60_000 })

  before(async () => {
    db = await createTestDatabase('postgres')
    fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), TASKS)
    bouncer = await startPgBouncer(db.url, POOL_SIZE)
    env = {
      SQ_DATABASE_URL: bouncer.url(db.url),
      SQ_LISTEN_URL: `${db.url}?application_name=${DIRECT}`,
      SQ_PREPARED_STATEMENTS: 'false',
      // Only NOTIFY can start a task within seconds.
      SQ_POLL_INTERVAL: '60',
    }
  })

  afterEach(killLeftovers)

  after(async () => {
    await watcher?.end()
    await bouncer?.stop()
    await db?.drop()
  })

  it('sq migrate through the bouncer, three at once: each migration applied once, no advisory lock left held', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => sq(['migrate', '--json'])))
    for (const r of runs) assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${bouncer.log()}`)
    const applied = runs.flatMap((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied).sort()
    assert.equal(applied.length, new Set(applied).size, `a migration ran twice: ${applied}`)
    assert.equal(applied.at(-1), LATEST_MIGRATION)
    watcher = new pg.Client({ connectionString: db.url, application_name: 'sq_test_watcher' })
    await watcher.connect()
    const { rows } = await watcher.query(
      `select count(*)::int as n from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`,
    )
    assert.equal(rows[0].n, 0)
  })

  it('a worker whose listenUrl cannot connect, or reaches another database, exits 1 in one line naming it, unregistered', async () => {
    const unreachable = { ...env, SQ_LISTEN_URL: 'postgres://postgres:listenpw@127.0.0.1:1/nowhere' }
    const elsewhere = { ...env, SQ_LISTEN_URL: PG_ADMIN_URL }
    for (const args of [['worker'], ['worker', '--burst']]) {
      const r = await runSq(args, { cwd: db.dir, env: unreachable })
      assertOneLineError(r, 1, /^sq: cannot LISTEN on listenUrl postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/nowhere: /)
      assert.doesNotMatch(r.stderr, /listenpw/)
      const other = await runSq(args, { cwd: db.dir, env: elsewhere })
      assertOneLineError(
        other,
        1,
        /^sq: listenUrl \S+ reaches postgres \(port .*\), not the database of db, sq_test_\w+ \(port/,
      )
    }
    assert.equal((await watcher.query('select count(*)::int as n from sq_workers')).rows[0].n, 0)
  })

  it('workers run single, --wait and batch tasks, woken by NOTIFY; the server sees the pool and LISTEN alone', async () => {
    const workers = Array.from(
      { length: WORKERS },
      () => new SqProcess(['worker', '--concurrency', '2'], { cwd: db.dir, env }),
    )
    for (const w of workers) await w.waitForOutput(/started:/, 20_000)

    const samples: Activity[][] = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await watcher.query<Activity>(
          `select application_name, query from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`,
        )
        samples.push(rows)
        await sleep(20)
      }
    })()

    // Idle workers, each past its first look: only a notification starts a task before the 60 s poll.
    await sleep(500)
    const single = await sq(['enqueue', 'tasks#text'])
    assert.equal(single.code, 0, single.stderr)
    const id = single.stdout.trim()
    const picked = await waitFor(
      async () =>
        (
          await watcher.query<{ ms: number }>(
            `select extract(epoch from started - created) * 1000 as ms from sq_tasks where id = $1 and status = 'completed'`,
            [id],
          )
        ).rows[0],
      15_000,
      `task ${id} to complete`,
    )
    assert.ok(picked.ms < 2000, `the task started ${picked.ms} ms after it was enqueued: no wake-up by NOTIFY`)

    const lines = Array.from({ length: BATCH }, (_, i) => JSON.stringify({ value: `b${i}` })).join('\n')
    const [batch, ...waited] = await Promise.all([
      sq(['enqueue', 'tasks#later', '--jsonl', '-'], lines),
      ...Array.from({ length: WAITERS }, (_, i) => sq(['enqueue', 'tasks#later', '--arg', `value=w${i}`, '--wait'])),
    ])
    assert.equal(batch!.code, 0, batch!.stderr)
    assert.equal(batch!.stdout.trim().split('\n').length, BATCH)
    waited.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `w${i}\n`)
    })
    await waitFor(
      async () =>
        (await watcher.query(`select count(*)::int as n from sq_tasks where status = 'completed'`)).rows[0].n ===
        1 + BATCH + WAITERS,
      30_000,
      'every task to complete',
    )
    sampling = false
    await sampler

    for (const w of workers) w.signal('SIGTERM')
    for (const w of workers) {
      assert.deepEqual(await w.ended(), { code: 0, signal: null }, w.output)
      assert.equal(w.stderr, '', w.output)
    }

    const direct = samples.map((rows) => rows.filter((r) => r.application_name === DIRECT))
    const pooled = samples.map((rows) => rows.filter((r) => r.application_name !== DIRECT))
    // LISTEN, and the check, once per process that LISTENs, that listenUrl reaches the database of db.
    const carried = direct
      .flat()
      .filter((r) => r.query !== '' && !r.query.startsWith('LISTEN ') && !r.query.includes('current_database()'))
    assert.deepEqual(carried, [], 'the direct connections carried more than LISTEN')
    assert.ok(Math.max(...pooled.map((r) => r.length)) <= POOL_SIZE, 'more server connections than the pool')
    // One for the host's workers, which hear through it; --wait polls through the bouncer.
    assert.deepEqual(new Set(direct.map((r) => r.length)), new Set([1]), 'not one LISTEN connection for the host')
  })
})
