import assert from 'node:assert/strict'
import fs from 'node:fs'
import { PgCluster } from '../../scripts/chaos/cluster.js'
import { DIALECTS } from '../helpers/db.js'
import { sleep, waitFor } from '../helpers/wait.js'
import { type SqProcess, workerSuite } from '../helpers/worker.js'

/**
 * Real PostgreSQL restarts while workers run tasks, on a cluster of this file's own (created on a free
 * port, dropped at the end: the shared server on 5432 is never restarted under other tests). Each test
 * first checks that the workers SAW the outage (a claim or a write the server refused, in their log),
 * then that they came through it: alive, every task completed once, every streamed piece kept.
 */
const TASK_COUNT = 400
/** Immediate restarts a worker of short generators lives through; the bar is 20 (SQ_TEST_RESTARTS=20). */
const IMMEDIATE_RESTARTS = Number(process.env.SQ_TEST_RESTARTS ?? 8)

/** Worker log lines that say the database refused or dropped something. */
const OUTAGE =
  /^\S+ (cannot claim tasks|cannot record verdicts|could not record|could not give back|worker error)\b.*$/gm

function outageLines(workers: SqProcess[]): string[] {
  return workers.flatMap((w) => w.stdout.match(OUTAGE) ?? [])
}

/** Restarts the server and waits until a worker has logged a new line about it (or one has exited). */
async function restartSeen(cluster: PgCluster, mode: 'fast' | 'immediate', workers: SqProcess[]): Promise<void> {
  const before = outageLines(workers).length
  await cluster.restart(mode)
  await waitFor(
    () => outageLines(workers).length > before || workers.some((w) => w.result),
    15_000,
    `a worker to log the restart (${mode}); they printed:\n${workers.map((w) => w.output.slice(-2_000)).join('\n---\n')}`,
  )
}

if (DIALECTS.includes('postgres')) {
  describe('workers across PostgreSQL restarts (a cluster of their own)', function () {
    this.timeout(240_000 + 10_000 * IMMEDIATE_RESTARTS)
    let cluster: PgCluster | undefined
    before(async function () {
      this.timeout(60_000)
      cluster = await PgCluster.create('sqtest')
    })
    const s = workerSuite(
      'postgres',
      {
        'restart.mjs': `import fs from 'node:fs'
export async function napNote({ file, token, ms }) {
  fs.appendFileSync(file, token + '\\n')
  await new Promise((resolve) => setTimeout(resolve, ms))
  return token
}
export async function* pieces({ n }) {
  for (let i = 0; i < n; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    yield i + ';'
  }
}
`,
      },
      { pgAdminUrl: () => cluster!.url() },
    )
    after(async function () {
      this.timeout(60_000)
      await cluster?.drop()
    })

    async function unfinished(): Promise<number> {
      const rows = await s.queue.backend.db
        .selectFrom('sq_tasks')
        .select(['status'])
        .where('queue', '=', s.q)
        .where('status', 'in', ['queued', 'progress'])
        .execute()
      return rows.length
    }

    it('live on, and every task completes exactly once', async () => {
      const file = s.file('ran.txt')
      const ids: string[] = []
      for (let i = 0; i < TASK_COUNT; i++)
        ids.push(await s.enqueue('restart#napNote', { file, token: `t${i}`, ms: 40 }))
      const workers = [s.worker(['--concurrency', '4']), s.worker(['--concurrency', '4'])]
      for (const w of workers) await w.waitForOutput(/started/)

      // Mid-run, at different moments: right away, after the pool has reconnected, and later.
      for (const pause of [300, 700, 1500]) {
        await sleep(pause)
        await restartSeen(cluster!, 'fast', workers)
      }

      await waitFor(async () => (await unfinished()) === 0, 120_000, 'every task to end', 500)
      for (const w of workers) {
        assert.equal(w.result, undefined, `a worker died:\n${w.output}`)
        assert.doesNotMatch(w.output, /Unhandled|ECONNRESET.*\n.*at /, w.output)
      }

      const rows = await s.queue.backend.db
        .selectFrom('sq_tasks')
        .select(['id', 'status', 'attempts', 'error', 'output'])
        .where('queue', '=', s.q)
        .execute()
      const bad = rows.filter((r) => r.status !== 'completed' || r.attempts !== 1)
      assert.deepEqual(bad, [], 'every task completed on its first attempt')
      const ran = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
      assert.equal(ran.length, TASK_COUNT, 'each task ran once')
      assert.equal(new Set(ran).size, TASK_COUNT)

      // After the restarts, LISTEN works again: an idle worker picks up a new task at once.
      const id = await s.enqueue('restart#napNote', { file: s.file('late.txt'), token: 'late', ms: 0 })
      assert.equal((await s.waitForStatus(id, undefined, 10_000)).status, 'completed')

      for (const w of workers) w.signal('SIGTERM')
      for (const w of workers) assert.equal((await w.ended()).code, 0, w.output)
    })

    it('a worker running short generators lives through immediate restarts, keeping every piece', async () => {
      // Runs end all the time, so some end while the server is away, their last output still to flush.
      const ids = new Map<string, number>()
      for (let i = 0; i < 60 * IMMEDIATE_RESTARTS; i++) {
        const n = 3 + (i % 6) // 0.3–0.8 s, a piece every 100 ms
        ids.set(await s.enqueue('restart#pieces', { n }), n)
      }
      const worker = s.worker(['--concurrency', '8'])
      await worker.waitForOutput(/started/)
      for (let restart = 0; restart < IMMEDIATE_RESTARTS && worker.result === undefined; restart++) {
        await sleep(1_000)
        await restartSeen(cluster!, 'immediate', [worker])
      }
      assert.equal(worker.result, undefined, `the worker died under the restarts:\n${worker.output.slice(-4_000)}`)

      await waitFor(async () => (await unfinished()) === 0, 120_000, 'every task to end', 500)
      assert.equal(worker.result, undefined, `the worker died:\n${worker.output.slice(-4_000)}`)
      const rows = await s.queue.backend.db
        .selectFrom('sq_tasks')
        .select(['id', 'status', 'output', 'error'])
        .where('queue', '=', s.q)
        .execute()
      const bad = rows
        .filter((r) => {
          const n = ids.get(String(r.id))!
          const all = Array.from({ length: n }, (_, i) => `${i};`).join('')
          return r.status !== 'completed' || r.output !== all
        })
        .map((r) => `${r.id} ${r.status} output ${JSON.stringify(r.output)} of ${ids.get(String(r.id))} pieces`)
      assert.deepEqual(bad, [], 'every task completed with all its pieces, from one run')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('a stop ends while PostgreSQL is down, saying which verdict it could not record', async () => {
      const id = await s.enqueue('restart#napNote', { file: s.file('ran.txt'), token: 'slow', ms: 1500 })
      const worker = s.worker(['--burst', '--grace', '0'])
      await worker.waitForOutput(new RegExp(`started ${id}`))
      try {
        await cluster!.stop('fast')
        await worker.waitForOutput(/cannot record verdicts/, 20_000)
        worker.signal('SIGTERM')
        await worker.ended(30_000)
        assert.match(worker.output, new RegExp(`lost the verdict of ${id}`))
      } finally {
        await cluster!.start()
      }
    })
  })
}
