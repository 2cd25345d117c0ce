import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { HostWorker } from '../helpers/host.js'
import { waitFor, waitForExit } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

const TASKS = `
export async function nap({ ms }) { await new Promise((resolve) => setTimeout(resolve, ms)); return 'rested' }
export async function hang() { await new Promise(() => setInterval(() => {}, 1000)) }
`

// The seed's pid check would take a task of another host for orphaned whenever that pid is not alive
// locally; sq judges only heartbeats. HostWorker runs `sq worker` on a host of its own.

for (const dialect of DIALECTS) {
  describeOn(dialect, `workers on two hosts (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })
    let hosts: HostWorker[] = []
    afterEach(async () => {
      for (const h of hosts) if (h.proc.exitCode === null) h.proc.kill('SIGKILL')
      hosts = []
    })

    it('never presumes a live worker of another host dead, though its pid means nothing here; a dead one is rescued', async () => {
      // A heartbeat each second: a loaded machine may delay one by a few hundred ms, never by 3 s.
      const env = { SQ_HEARTBEAT_TIMEOUT: '3' }
      const start = (host: string) => new HostWorker(host, ['--db', s.db.url, '--queue', s.q], { cwd: s.db.dir, env })
      hosts = [start('host-a'), start('host-b')]
      const names = await waitFor(
        async () => {
          const rows = await s.queue.backend.db.selectFrom('sq_workers').select('name').orderBy('name').execute()
          return rows.length === 2 && rows.map((r) => r.name)
        },
        15_000,
        'both workers to register',
      )
      // Each is pid 1 on its own host.
      assert.deepEqual(names, ['host-a:1', 'host-b:1'])

      // Runs that outlast the heartbeat timeout twice, one on each host.
      const ids = [await s.enqueue('tasks#nap', { ms: 7000 }), await s.enqueue('tasks#nap', { ms: 7000 })]
      const done = await Promise.all(ids.map((id) => s.waitForStatus(id, undefined, 30_000)))
      for (const t of done) assert.deepEqual([t.status, t.error, t.output], ['completed', null, 'rested'])
      assert.deepEqual(done.map((t) => t.worker).sort(), ['host-a:1', 'host-b:1'])

      // Now one host dies for real: the other fails its task, naming it.
      const id = await s.enqueue('tasks#hang')
      const running = await s.waitForStatus(id, ['progress'])
      const [dead, alive] = running.worker === 'host-a:1' ? [hosts[0]!, hosts[1]!] : [hosts[1]!, hosts[0]!]
      const deadPid = dead.pid
      process.kill(deadPid, 'SIGKILL')
      await waitForExit(deadPid, 10_000, 'the killed worker to be gone')
      const failed = await s.waitForStatus(id, ['failed'], 30_000)
      const other = running.worker === 'host-a:1' ? 'host-b:1' : 'host-a:1'
      assert.match(failed.error!, new RegExp(`Worker ${running.worker} stopped heartbeating.*by worker ${other}`))

      process.kill(alive.pid, 'SIGTERM')
      await waitFor(() => alive.proc.exitCode !== null, 15_000, 'the live worker to stop')
      assert.equal(alive.proc.exitCode, 0, alive.output)
    })
  })
}
