import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { type FollowCursor, type FollowOptions, followStep } from '../../src/follow.js'
import { Queue } from '../../src/queue/queue.js'
import type { Backend } from '../../src/storage/backend.js'
import { appendChunks, claimTasks } from '../../src/storage/run-repository.js'
import { endRun } from '../../src/storage/run-verdict.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'

/** Following a run's output one step at a time (follow.ts), as `sq show --follow`, the SSE stream and `sq top` do. */

for (const dialect of DIALECTS) {
  describeOn(dialect, `following a run (${dialect})`, () => {
    let db: TestDatabase
    let queue: Queue
    let d: Backend

    before(async () => {
      db = await createTestDatabase(dialect)
      fs.writeFileSync(path.join(db.dir, 'jobs.mjs'), 'export async function count() {}\n')
      queue = await Queue.open({ db: db.url, root: db.dir })
      d = queue.backend
    })
    after(async () => {
      await queue?.close()
      await db?.drop()
    })

    async function claim(id: string) {
      const [claimed] = await claimTasks(d, {
        workerId: 'w1',
        workerName: 'h:1',
        pid: 1,
        queues: ['default'],
        limit: 1,
      })
      assert.equal(claimed?.id, id)
      return { id, claim: claimed!.claim }
    }

    /** Steps until the run has ended, as a follower polls; the text of each step, and the last step. */
    async function drain(id: string, cursor: FollowCursor | null, o: FollowOptions = {}) {
      const texts: string[] = []
      for (;;) {
        const step = (await followStep(d, id, cursor, o))!
        texts.push(step.text)
        cursor = step.cursor
        if (step.ended) return { texts, step }
      }
    }

    it('continues a run into its end with exactly the text not read yet, characters beyond the BMP included', async () => {
      const { id } = await queue.enqueue({ task: 'jobs#count' })
      const queued = await followStep(d, id, null)
      assert.deepEqual([queued?.head.status, queued?.text, queued?.cursor], ['queued', '', null])
      const run = await claim(id)
      await appendChunks(d, run, { output: 'a😀b\n' })
      const first = (await followStep(d, id, null))!
      assert.deepEqual([first.text, first.restart, first.ended], ['a😀b\n', true, false])
      await appendChunks(d, run, { output: '😀😀 c\n' })
      await endRun(d, run, { status: 'completed', tail: { output: 'last 🎉\n' } })
      const { texts, step } = await drain(id, first.cursor)
      assert.equal(texts.join(''), '😀😀 c\nlast 🎉\n')
      assert.equal(step.restart, false)
      assert.equal(step.head.status, 'completed')
      assert.equal((await queue.get(id)).output, 'a😀b\n😀😀 c\nlast 🎉\n')
    })

    it('starts over on a new run, and takes an ended run it did not follow as its tail, clipped', async () => {
      const { id } = await queue.enqueue({ task: 'jobs#count' })
      const one = await claim(id)
      await appendChunks(d, one, { output: 'first run\n' })
      const seen = (await followStep(d, id, null))!
      await endRun(d, one, { status: 'queued', error: 'Error: again', retryAfterSeconds: 0 })
      const two = await claim(id)
      await appendChunks(d, two, { output: 'second run\n' })
      const retry = (await followStep(d, id, seen.cursor))!
      assert.deepEqual([retry.text, retry.restart, retry.head.attempts], ['second run\n', true, 2])
      await endRun(d, two, { status: 'failed', error: 'Error: no', tail: { output: 'x'.repeat(100) } })
      const { texts, step } = await drain(id, null, { tailChars: 10 })
      assert.deepEqual([texts.join(''), step.restart, step.clipped], ['x'.repeat(10), true, true])
      const after = (await followStep(d, id, step.cursor))!
      assert.deepEqual([after.ended, after.text], [true, ''], 'an ended run is read once')
    })

    it('reads a long stream from its start in batches, or only its last chunks', async () => {
      const { id } = await queue.enqueue({ task: 'jobs#count' })
      const run = await claim(id)
      for (let i = 0; i < 5; i++) await appendChunks(d, run, { output: `${i}\n` })
      const head = (await followStep(d, id, null, { maxChunks: 2 }))!
      assert.deepEqual([head.text, head.more, head.clipped], ['0\n1\n', true, false])
      const tail = (await followStep(d, id, null, { maxChunks: 2, from: 'tail' }))!
      assert.deepEqual([tail.text, tail.more, tail.clipped], ['3\n4\n', false, true])
      await d.db.deleteFrom('sq_tasks').where('id', '=', id).execute()
      assert.equal(await followStep(d, id, head.cursor), null, 'a deleted task ends the follow')
    })
  })
}
