import assert from 'node:assert/strict'
import pg from 'pg'
import { PgCluster } from '../../scripts/chaos/cluster.js'
import { DIALECTS } from '../helpers/db.js'
import { sleep, waitFor } from '../helpers/wait.js'
import { type SqProcess, workerSuite } from '../helpers/worker.js'

/**
 * What idle workers cost one PostgreSQL, read off the server: the statements its pg_stat_statements
 * counted in the test's database (a cluster of this file's own, which loads it) and the connections
 * pg_stat_activity shows.
 */
if (DIALECTS.includes('postgres')) {
  describe('idle workers on one PostgreSQL (a cluster of their own)', function () {
    this.timeout(240_000)
    let cluster: PgCluster | undefined
    let admin: pg.Client
    before(async function () {
      this.timeout(60_000)
      cluster = await PgCluster.create('sqidle', ['shared_preload_libraries=pg_stat_statements'])
      admin = new pg.Client({ connectionString: cluster.url() })
      await admin.connect()
      await admin.query('create extension pg_stat_statements')
    })
    const s = workerSuite(
      'postgres',
      { 'tasks.mjs': 'export function noop() {}\n' },
      { pgAdminUrl: () => cluster!.url() },
    )
    after(async function () {
      this.timeout(60_000)
      await admin?.end()
      await cluster?.drop()
    })

    const database = () => new URL(s.db.url).pathname.slice(1)
    const count = async (query: string) => Number((await admin.query<{ n: string }>(query, [database()])).rows[0]!.n)
    const statements = () =>
      count(
        'select coalesce(sum(calls), 0) as n from pg_stat_statements s join pg_database d on d.oid = s.dbid where d.datname = $1',
      )
    // Client connections only: an autovacuum worker (sq_workers is written each heartbeat) shows there too.
    const connections = () =>
      count(`select count(*) as n from pg_stat_activity where datname = $1 and backend_type = 'client backend'`)

    async function startWorkers(n: number, env: Record<string, string> = {}): Promise<SqProcess[]> {
      const workers = Array.from({ length: n }, () => s.worker(['-c', '1'], env))
      await Promise.all(workers.map((w) => w.waitForOutput(/worker \S+ started/, 60_000)))
      return workers
    }

    async function stopAll(workers: SqProcess[]): Promise<void> {
      for (const w of workers) w.signal('SIGTERM')
      for (const w of workers) assert.equal((await w.ended()).code, 0, w.output)
    }

    it('a task costs a bounded number of statements however many workers idle, and one of them takes it at once', async () => {
      // Their poll is 30 s: a pickup within seconds comes from the notification.
      const workers = await startWorkers(12, { SQ_POLL_INTERVAL: '30' })
      // Each knows the others from its first heartbeat after theirs started (10 s apart).
      await sleep(12_000)
      const q = s.queue
      const tasks = 30
      const before = await statements()
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
      const seconds = (performance.now() - started) / 1000
      const spent = (await statements()) - before
      // Heartbeats go on meanwhile (two statements each 10 s per worker); the test's reads are its own.
      const perTask = (spent - workers.length * 0.2 * seconds - ownReads) / tasks
      // The enqueue, a claim, the claim ahead, a verdict, the winner's look when its slot frees, a
      // spare's look. Every idle worker claiming would cost 12 more.
      assert.ok(perTask <= 8, `${perTask.toFixed(1)} statements per task with ${workers.length} idle workers`)
      for (const id of ids) {
        const t = await q.get(id)
        assert.equal(t.status, 'completed')
        const pickup = Date.parse(t.started!) - Date.parse(t.created)
        assert.ok(pickup < 2000, `task picked up ${pickup} ms after it was enqueued`)
      }
      await stopAll(workers)
    })

    it('the workers of one host LISTEN on one connection, and another takes it over when that worker dies', async () => {
      // Counted since this test began (the database is the describe block's).
      const listens = async () => (await listened()) - before
      const listened = () =>
        count(
          `select coalesce(sum(calls), 0) as n from pg_stat_statements s join pg_database d on d.oid = s.dbid
           where d.datname = $1 and s.query = 'LISTEN "sq_queued"'`,
        )
      const before = await listened()
      const poll = { SQ_POLL_INTERVAL: '30' }
      // The first to start leads; the others hear through it.
      const [first] = await startWorkers(1, poll)
      const rest = await startWorkers(2, poll)
      assert.equal(await listens(), 1)
      first!.signal('SIGKILL')
      await first!.ended()
      await waitFor(
        async () => (await listens()) === 2,
        5000,
        () => 'a second worker to LISTEN',
      )
      // Heard through the new leader: a task is taken long before the 30 s poll.
      const { id } = await s.queue.enqueue({ task: 'tasks#noop', queue: s.q })
      await waitFor(
        async () => (await s.queue.get(id)).status === 'completed',
        5000,
        () => `task ${id} to run`,
      )
      const t = await s.queue.get(id)
      const pickup = Date.parse(t.started!) - Date.parse(t.created)
      assert.ok(pickup < 2000, `task picked up ${pickup} ms after it was enqueued`)
      assert.equal(await listens(), 2)
      await stopAll(rest)
    })

    it('an idle worker runs at most 0.5 statements a second, and holds one connection', async () => {
      const workers = await startWorkers(3)
      // Past the pools' idle timeout (10 s), the test's own included: only what an idle worker keeps is left.
      await sleep(12_000)
      assert.equal(await connections(), 3)
      const before = await statements()
      const windowMs = 30_000
      await sleep(windowMs)
      const rate = ((await statements()) - before) / (windowMs / 1000) / workers.length
      assert.ok(rate <= 0.5, `${rate.toFixed(2)} statements/s per idle worker`)
      await stopAll(workers)
    })

    it('an idle worker keeps to its one connection through its rarer duties (the check for lost claims)', async () => {
      // Heartbeats each second: the check for claims whose answer was lost comes every 6 beats.
      const workers = await startWorkers(3, { SQ_HEARTBEAT_TIMEOUT: '3' })
      // Once the start's connections (and any other's) have idled out of their pools (10 s)…
      await waitFor(
        async () => (await connections()) === 3,
        30_000,
        () => 'the connections to fall to one per worker',
      )
      // …none comes back, over more than one check.
      const seen: number[] = []
      for (const until = performance.now() + 8000; performance.now() < until; await sleep(250)) {
        seen.push(await connections())
      }
      assert.ok(Math.max(...seen) === 3, `connections seen: ${seen.join(' ')}`)
      await stopAll(workers)
    })
  })
}
