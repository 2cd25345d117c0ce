import assert from 'node:assert/strict'
import { claimTasks } from '../../src/storage/run-repository.js'
import { heartbeat, registerWorker } from '../../src/storage/worker-repository.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { sleep } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * An outage holds back every worker's heartbeats alike — the database away, SQLite's disk full, or its
 * write lock held by a frozen worker. A worker that could not beat itself meanwhile (here: frozen by
 * SIGSTOP) must not, once it wakes, take the others' stale heartbeats for deaths: it waits a whole
 * timeout, in which the live ones beat again. A worker that stays silent is rescued after that.
 */
for (const dialect of DIALECTS) {
  describeOn(dialect, `a worker back from an outage of its own (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('does not presume dead a live worker whose beats the outage held back; a silent one it rescues', async () => {
      const d = s.queue.backend
      const id = await s.enqueue('tasks#text')
      const other = {
        id: `other-${s.q}`,
        name: 'elsewhere:1',
        host: 'elsewhere',
        pid: 1,
        queues: [s.q],
        concurrency: 1,
      }
      await registerWorker(d, other)
      const [claimed] = await claimTasks(d, {
        workerId: other.id,
        workerName: other.name,
        pid: 1,
        queues: [s.q],
        limit: 1,
      })
      assert.equal(claimed?.id, id)

      const w = s.worker([], { SQ_HEARTBEAT_TIMEOUT: '2' })
      await w.waitForOutput(/started: concurrency/)
      await sleep(2500) // past its own start-up hold-off
      w.signal('SIGSTOP')
      await sleep(4000) // the "outage": nobody beats, the other worker's heartbeat goes 4 s stale
      w.signal('SIGCONT')
      const beating = setInterval(() => void heartbeat(d, other.id, 1), 250)
      try {
        await heartbeat(d, other.id, 1)
        await sleep(3000)
        assert.equal((await s.get(id)).status, 'progress', `a live worker was presumed dead:\n${w.output}`)
      } finally {
        clearInterval(beating)
      }
      // Silent from now on: rescued once its heartbeat is 2 s stale and the woken worker's hold-off is over.
      const rescued = await s.waitForStatus(id, ['failed'], 15_000)
      assert.match(rescued.error!, /Worker elsewhere:1 stopped heartbeating/)
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
    })
  })
}
