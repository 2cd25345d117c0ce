import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { DIALECTS } from '../helpers/db.js'
import { sleep, waitFor } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * A real PostgreSQL restart (`pg_ctlcluster … restart -m fast`, which drops every connection) while
 * two workers run tasks, three times at different moments: the workers live on (no unhandled 'error'
 * of a pg client), re-LISTEN, retry the verdicts the restart interrupted and give back the claims whose
 * answer it lost — every task ends completed, on its first attempt, having run once.
 */
const TASK_COUNT = 400

function restartPostgres(): void {
  const version = fs.readdirSync('/etc/postgresql')[0]!
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart', '-m', 'fast'], {
    stdio: 'ignore',
  })
}

function pgCluster(action: 'stop' | 'start'): void {
  const version = fs.readdirSync('/etc/postgresql')[0]!
  execFileSync(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'stop' ? ['-m', 'fast'] : [])],
    {
      stdio: 'ignore',
    },
  )
}

function postgresReady(): boolean {
  try {
    execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q'])
    return true
  } catch {
    return false
  }
}

if (DIALECTS.includes('postgres')) {
  describe('workers across PostgreSQL restarts', function () {
    this.timeout(180_000)
    const s = workerSuite('postgres', {
      'restart.mjs': `import fs from 'node:fs'
export async function napNote({ file, token, ms }) {
  fs.appendFileSync(file, token + '\\n')
  await new Promise((resolve) => setTimeout(resolve, ms))
  return token
}
`,
    })

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
        restartPostgres()
        await waitFor(() => postgresReady(), 30_000, 'PostgreSQL to accept connections again')
      }

      const done = async () => {
        const rows = await s.queue.backend.db
          .selectFrom('sq_tasks')
          .select(['status'])
          .where('queue', '=', s.q)
          .execute()
        return rows.every((r) => r.status === 'completed' || r.status === 'failed' || r.status === 'cancelled')
      }
      await waitFor(done, 120_000, 'every task to end', 500)
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

    it('a stop ends while PostgreSQL is down, saying which verdict it could not record', async () => {
      const id = await s.enqueue('restart#napNote', { file: s.file('ran.txt'), token: 'slow', ms: 1500 })
      const worker = s.worker(['--burst', '--grace', '0'])
      await worker.waitForOutput(new RegExp(`started ${id}`))
      try {
        pgCluster('stop')
        await worker.waitForOutput(/cannot record verdicts/, 20_000)
        worker.signal('SIGTERM')
        await worker.ended(30_000)
        assert.match(worker.output, new RegExp(`lost the verdict of ${id}`))
      } finally {
        pgCluster('start')
        await waitFor(() => postgresReady(), 30_000, 'PostgreSQL to accept connections again')
      }
    })
  })
}
