import assert from 'node:assert/strict'
import pg from 'pg'
import { describeOn, PG_ADMIN_URL } from '../helpers/db.js'
import { sleep } from '../helpers/wait.js'
import { type WorkerSuite, workerSuite } from '../helpers/worker.js'

/**
 * What idle workers cost one PostgreSQL, read off the server's own statistics: pg_stat_database's
 * transactions of the test's database. A backend reports them within 10 s of going idle, so each window
 * is read STATS_SETTLE_MS after it ends (and the test's own reads of the database are counted out).
 */
const STATS_SETTLE_MS = 11_000

describeOn('postgres', 'idle workers on one PostgreSQL', function () {
  this.timeout(240_000)
  const s = workerSuite('postgres', { 'tasks.mjs': 'export function noop() {}\n' })
  let admin: pg.Client
  before(async () => {
    admin = new pg.Client({ connectionString: PG_ADMIN_URL })
    await admin.connect()
  })
  after(() => admin.end())

  const database = () => new URL(s.db.url).pathname.slice(1)
  const transactions = async () => {
    const { rows } = await admin.query<{ n: string }>(
      'select xact_commit + xact_rollback as n from pg_stat_database where datname = $1',
      [database()],
    )
    return Number(rows[0]!.n)
  }
  const connections = async () => {
    const { rows } = await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [
      database(),
    ])
    return Number(rows[0]!.n)
  }

  async function startWorkers(n: number, env: Record<string, string> = {}) {
    const workers = Array.from({ length: n }, () => s.worker(['-c', '1'], env))
    await Promise.all(workers.map((w) => w.waitForOutput(/worker \S+ started/, 60_000)))
    return workers
  }

  async function stopAll(workers: ReturnType<WorkerSuite['worker']>[]) {
    for (const w of workers) w.signal('SIGTERM')
    for (const w of workers) assert.equal((await w.ended()).code, 0, w.output)
  }

  it('a task wakes a bounded number of idle workers, and one of them at once', async () => {
    // Their poll is 30 s: a pickup within seconds comes from the notification.
    const workers = await startWorkers(12, { SQ_POLL_INTERVAL: '30' })
    // Each knows the others from its first heartbeat after theirs started (10 s apart).
    await sleep(12_000)
    const q = s.queue
    const tasks = 30
    const before = await transactions()
    const started = performance.now()
    const ids: string[] = []
    for (let i = 0; i < tasks; i++) {
      ids.push((await q.enqueue({ task: 'tasks#noop', queue: s.q })).id)
      await sleep(100)
    }
    let ownReads = 0
    for (;;) {
      ownReads++
      if ((await q.list({ statuses: ['queued', 'progress'], limit: 1 })).length === 0) break
      await sleep(500)
    }
    const windowMs = performance.now() - started
    await sleep(STATS_SETTLE_MS)
    const spent = (await transactions()) - before
    // Heartbeats (two statements each 10 s per worker) go on meanwhile; the test's enqueues and reads are its own.
    const idle = (workers.length * 0.2 * (windowMs + STATS_SETTLE_MS)) / 1000
    const perTask = (spent - idle - ownReads) / tasks
    // Each task: its enqueue, a claim, a verdict, the winner's look for more, a spare's look. Every idle
    // worker claiming would cost at least 12 more.
    assert.ok(perTask <= 8, `${perTask.toFixed(1)} transactions per task with ${workers.length} idle workers`)
    for (const id of ids) {
      const t = await q.get(id)
      assert.equal(t.status, 'completed')
      const pickup = Date.parse(t.started!) - Date.parse(t.created)
      assert.ok(pickup < 2000, `task picked up ${pickup} ms after it was enqueued`)
    }
    await stopAll(workers)
  })
  it('an idle worker runs at most 0.5 transactions a second, and holds one connection', async () => {
    const workers = await startWorkers(3)
    // Past the pools' idle timeout (10 s), the test's own included: only what an idle worker keeps is left.
    await sleep(12_000)
    assert.equal(await connections(), 3)
    const before = await transactions()
    const windowMs = 20_000
    await sleep(windowMs)
    await sleep(STATS_SETTLE_MS)
    const spent = (await transactions()) - before
    const rate = spent / ((windowMs + STATS_SETTLE_MS) / 1000) / workers.length
    assert.ok(rate <= 0.5, `${rate.toFixed(2)} transactions/s per idle worker`)
    await stopAll(workers)
  })
})
