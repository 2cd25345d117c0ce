import assert from 'node:assert/strict'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { sq, writeTaskModule } from '../helpers/sq.js'
import { createTask, openQueue, WaitStoppedError, type Queue } from '../../src/index.js'

const TASKS = `
export async function* count() { for (let i = 1; i <= 3; i++) { yield i + ' '; await new Promise((r) => setTimeout(r, 50)) } }
export function fail() { throw new Error('boom') }
`

/** By name: under mocha's tsx loader a module imported lazily (queue/wait.ts) has its own errors.ts. */
const isWaitStopped = (e: Error) => e.name === WaitStoppedError.name

for (const dialect of DIALECTS) {
  describeOn(dialect, `queue.wait (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir, 'tasks.mjs', TASKS)
      queue = await openQueue({ db: db.url, root: db.dir })
    })
    after(async () => {
      await queue?.close()
      await db?.drop()
    })

    it('resolves with the final record once a worker has run the task, streaming its output', async () => {
      const ok = await createTask({ task: 'tasks#count' }, queue)
      const bad = await createTask({ task: 'tasks#fail' }, queue)
      const worker = sq(db, ['worker', '--burst'])
      let streamed = ''
      const done = await queue.wait(ok.slice(0, 8), { onOutput: (text) => (streamed += text), timeout: 60_000 })
      assert.equal(done.status, 'completed')
      assert.equal(done.output, '1 2 3 ')
      assert.equal(streamed, done.output)
      const failed = await queue.wait(bad, { timeout: 60_000 })
      assert.equal(failed.status, 'failed')
      assert.match(failed.error ?? '', /boom/)
      assert.equal((await worker).code, 1)
    })

    it('rejects with a WaitStoppedError at its timeout or its signal, leaving the task queued', async () => {
      const id = await createTask({ task: 'tasks#count' }, queue)
      const started = Date.now()
      await assert.rejects(queue.wait(id, { timeout: 300 }), (e: WaitStoppedError) => {
        assert.ok(isWaitStopped(e), String(e))
        assert.equal(e.timedOut, true)
        assert.match(e.message, /gave up waiting after 300 ms: task .* is still queued/)
        return true
      })
      assert.ok(Date.now() - started < 5000)
      const stop = new AbortController()
      setTimeout(() => stop.abort(), 200)
      await assert.rejects(queue.wait(id, { signal: stop.signal }), (e: WaitStoppedError) => {
        assert.ok(isWaitStopped(e), String(e))
        assert.equal(e.timedOut, false)
        assert.match(e.message, /^stopped waiting: task .* is still queued/)
        return true
      })
      assert.equal((await queue.get(id)).status, 'queued')
      await assert.rejects(queue.wait('ffffffff-ffff-4fff-8fff-ffffffffffff'), /no task|deleted/)
    })
  })
}
