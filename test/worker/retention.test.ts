import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Status } from '../../src/types.js'
import { databaseTime } from '../../src/storage/worker-repository.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { HostWorker } from '../helpers/host.js'
import { assertOneLineError } from '../helpers/sq.js'
import { waitFor } from '../helpers/wait.js'
import { type SqProcess, workerSuite } from '../helpers/worker.js'

const TASKS = `export function hi() { return 'hi' }\n`
const HOUR = 3_600_000
const DAY = 24 * HOUR

for (const dialect of DIALECTS) {
  describeOn(dialect, `retention (${dialect})`, function () {
    this.timeout(90_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })
    const db = () => s.queue.backend.db
    const config = (retention: unknown, dir = s.db.dir) => {
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(path.join(dir, 'sq.config.json'), JSON.stringify({ retention }))
    }
    let hosts: HostWorker[] = []
    beforeEach(() => db().deleteFrom('sq_tasks').execute())
    afterEach(() => {
      fs.rmSync(path.join(s.db.dir, 'sq.config.json'), { force: true })
      for (const h of hosts) if (h.proc.exitCode === null) h.proc.kill('SIGKILL')
      hosts = []
    })

    /**
     * `n` tasks put in `status`, last modified `agoMs` before the database's now, each with one earlier
     * run (`sq_task_runs`); in a queue no worker of these tests takes from.
     */
    async function tasks(n: number, status: Status, agoMs: number): Promise<string[]> {
      const items = Array.from({ length: n }, () => ({ task: 'tasks#hi', queue: `${s.q}-held` }))
      const ids = (await s.queue.enqueueMany(items)).map((r) => r.id)
      const when = new Date((await databaseTime(s.queue.backend)) - agoMs).toISOString()
      for (let i = 0; i < ids.length; i += 500) {
        const some = ids.slice(i, i + 500)
        await db()
          .updateTable('sq_tasks')
          .set({ status, modified: when, ...(status === 'progress' ? { worker: 'elsewhere:1', claims: 1 } : {}) })
          .where('id', 'in', some)
          .execute()
        await db()
          .insertInto('sq_task_runs')
          .values(
            some.map((id) => ({ task_id: id, claim: 1, attempt: 1, worker: 'w:1', finished: when, outcome: 'retry' })),
          )
          .execute()
      }
      return ids
    }
    const remaining = async () => new Set((await db().selectFrom('sq_tasks').select('id').execute()).map((r) => r.id))
    const runsOf = async (ids: string[]) =>
      (await db().selectFrom('sq_task_runs').select('task_id').where('task_id', 'in', ids).execute()).length
    const stop = async (w: SqProcess) => {
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    }

    it('deletes exactly the ended tasks older than sq.config.json says, in batches, with their runs', async () => {
      config({ completed: '30s', failed: '1d' })
      const gone = [...(await tasks(1201, 'completed', 2 * DAY)), ...(await tasks(2, 'failed', 2 * DAY))]
      const kept = [
        ...(await tasks(1, 'completed', 0)),
        ...(await tasks(1, 'failed', HOUR)),
        // Not named in the setting: kept forever.
        ...(await tasks(1, 'cancelled', 400 * DAY)),
        // Never ended: never deleted, however old.
        ...(await tasks(1, 'queued', 400 * DAY)),
        ...(await tasks(1, 'progress', 400 * DAY)),
      ]
      const w = s.worker()
      await w.waitForOutput(/retention: deleted/, 30_000)
      await stop(w)
      const lines = w.stdout.match(/retention: .*/g)
      assert.deepEqual(lines, ['retention: deleted 1203 tasks (completed older than 30s, failed older than 1d)'])
      assert.deepEqual(await remaining(), new Set(kept))
      assert.equal(await runsOf(gone), 0, 'the runs of the deleted tasks are gone with them')
      assert.equal(await runsOf(kept), kept.length, 'the runs of the kept ones are all there')
    })

    it('sq worker --retention replaces the config: a status it does not name is kept; --quiet says nothing', async () => {
      config({ completed: '10s' })
      const oldCompleted = await tasks(1, 'completed', 2 * DAY)
      const youngCancelled = await tasks(1, 'cancelled', 30 * 60_000)
      await tasks(1, 'failed', 2 * DAY)
      await tasks(1, 'cancelled', 2 * HOUR)
      const flag = ['--retention', 'failed=10s, cancelled=1h']
      const w = s.worker(flag)
      await w.waitForOutput(/retention: deleted/, 30_000)
      await stop(w)
      assert.deepEqual(w.stdout.match(/retention: .*/g), [
        'retention: deleted 2 tasks (failed older than 10s, cancelled older than 1h)',
      ])
      assert.deepEqual(await remaining(), new Set([...oldCompleted, ...youngCancelled]))

      const more = await tasks(3, 'failed', DAY)
      const quiet = s.worker([...flag, '--quiet'])
      await waitFor(async () => (await remaining()).size === 2, 30_000, `${more.length} more deleted`)
      await stop(quiet)
      assert.equal(quiet.stdout, '')
      assert.deepEqual(await remaining(), new Set([...oldCompleted, ...youngCancelled]))
    })

    it('two workers on two hosts do one round per interval between them', async () => {
      // 20s: a round every 2 s. The tasks pass their cutoff one every 100 ms over 10 s, so every round finds some.
      config({ completed: '20s' })
      const ids = await tasks(100, 'completed', 0)
      const now = await databaseTime(s.queue.backend)
      for (const [i, id] of ids.entries()) {
        const modified = new Date(now - 20_000 + (i + 1) * 100).toISOString()
        await db().updateTable('sq_tasks').set({ modified }).where('id', '=', id).execute()
      }
      const start = (host: string) => new HostWorker(host, ['--db', s.db.url, '--queue', s.q], { cwd: s.db.dir })
      hosts = [start('host-a'), start('host-b')]
      await waitFor(async () => (await remaining()).size === 0, 40_000, 'every task deleted')
      for (const h of hosts) process.kill(h.pid, 'SIGTERM')
      for (const h of hosts) await waitFor(() => h.proc.exitCode !== null, 15_000, `the worker on ${h.host} to stop`)
      for (const h of hosts) assert.equal(h.proc.exitCode, 0, h.output)

      const rounds = hosts
        .flatMap((h) => [...h.output.matchAll(/^(\S+) retention: deleted (\d+) tasks? /gm)])
        .map((m) => ({ at: Date.parse(m[1]!), deleted: Number(m[2]) }))
        .sort((a, b) => a.at - b.at)
      assert.equal(
        rounds.reduce((sum, r) => sum + r.deleted, 0),
        ids.length,
        'each task deleted once',
      )
      // Rounds begin at least 2 s apart on the database's clock; their log lines come after their deletes,
      // which take longer or shorter: 1 s of slack.
      const span = rounds.at(-1)!.at - rounds[0]!.at
      assert.ok(rounds.length >= 3, `rounds: ${rounds.length}`)
      assert.ok(
        rounds.length <= Math.floor((span + 1000) / 2000) + 1,
        `${rounds.length} rounds in ${span} ms:\n${hosts.map((h) => h.output).join('\n')}`,
      )
      const byHost = hosts.map((h) => `${h.host}: ${(h.output.match(/retention: deleted/g) ?? []).length}`)
      process.stdout.write(`      ${rounds.length} rounds in ${span} ms, by ${byHost.join(', ')}\n`)
    })

    it('refuses a bad --retention or retention setting with one line, exit 2, deleting nothing', async () => {
      const old = await tasks(1, 'completed', 2 * DAY)
      config({ completed: 'soon' }, path.join(s.db.dir, 'bad-duration'))
      config({ running: '1d' }, path.join(s.db.dir, 'bad-status'))
      config(['30d'], path.join(s.db.dir, 'bad-shape'))
      const cases: Array<[string[], RegExp]> = [
        [['--retention', 'completed=7'], /--retention: completed must be a duration like .*got "7" \(a number needs/],
        [['--retention', 'queued=1d'], /--retention: unknown status "queued" \(use completed, failed or cancelled\)/],
        [['--retention', 'completed'], /--retention: "completed" must be STATUS=DURATION/],
        [['--root', 'bad-duration'], /retention from .*sq\.config\.json: completed must be a duration .*got "soon"/],
        [['--root', 'bad-status'], /retention from .*sq\.config\.json: unknown status "running"/],
        [['--root', 'bad-shape'], /retention from .*sq\.config\.json must be an object like/],
      ]
      await Promise.all(
        cases.map(async ([flags, pattern]) => {
          const w = s.worker(flags)
          const exit = await w.ended()
          assertOneLineError({ ...exit, stdout: w.stdout, stderr: w.stderr }, 2, pattern)
        }),
      )
      assert.deepEqual(await remaining(), new Set(old))
    })
  })
}
