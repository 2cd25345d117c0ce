import assert from 'node:assert/strict'
import { insertTask } from '../../src/storage/task-repository.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { startServe } from '../helpers/serve.js'
import { newTask } from '../helpers/sq.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'

/**
 * One bad row, written into sq_tasks by another writer of the table (not through `sq enqueue`): args
 * nested thousands of levels deep, args that are not JSON or not an object, progress that is not what
 * a task yields. Only its own task fails; every reader shows it as malformed (its stored text, marked).
 */
const DEEP = `{"a":${'['.repeat(4200)}${']'.repeat(4200)}}`
const POISON = { deep: DEEP, notJson: 'not json {', array: '[1,2,3]' }

const ECHO = `export function echo(args) { return 'got ' + JSON.stringify(args) }\n`

/** Writes a task row straight into the table, args as given, bypassing every check of enqueue. */
async function insertRaw(s: WorkerSuite, argsJson: string): Promise<string> {
  return (await insertTask(s.queue.backend, newTask({ task: 'tasks#echo', argsJson, queue: s.q }))).id
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `a poison row among normal tasks (${dialect})`, function () {
    this.timeout(90_000)
    const s = workerSuite(dialect, { 'tasks.mjs': ECHO })

    it('fails only its own task: the others of its batch complete', async () => {
      const before = [await s.enqueue('tasks#echo', { n: 1 }), await s.enqueue('tasks#echo', { n: 2 })]
      const poison = {
        deep: await insertRaw(s, POISON.deep),
        notJson: await insertRaw(s, POISON.notJson),
        array: await insertRaw(s, POISON.array),
      }
      const after = [await s.enqueue('tasks#echo', { n: 3 }), await s.enqueue('tasks#echo', { n: 4 })]
      // One slot: every task is claimed into one batch for one task process.
      await s.burst(['--concurrency', '1'], {}, { exit: 1 }) // the poison rows fail
      for (const [i, id] of [...before, ...after].entries()) {
        const t = await s.get(id)
        assert.equal(t.status, 'completed', `${id}: ${t.error}`)
        assert.equal(t.output, `got {"n":${i + 1}}`)
      }
      const errors = {
        deep: /^task args nest deeper than 64 levels/,
        notJson: /^task args are not valid JSON/,
        array: /^task args must be a JSON object, got an array/,
      }
      for (const [name, id] of Object.entries(poison)) {
        const t = await s.get(id)
        assert.equal(t.status, 'failed', name)
        assert.match(t.error ?? '', errors[name as keyof typeof errors], name)
        assert.equal(t.args, POISON[name as keyof typeof POISON], `${name}: the record holds the stored text`)
      }
    })

    it('is refused at enqueue when args nest deeper than 64 levels: one line, exit 2', async () => {
      const nested = (levels: number) => `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`
      const deep = s.sq(['enqueue', 'tasks#echo', '--queue', s.q, '--args', nested(65)])
      assert.equal((await deep.ended()).code, 2, deep.output)
      assert.equal(deep.stdout, '')
      assert.match(deep.stderr, /^sq: task args nest deeper than 64 levels of objects and arrays \(the limit\)\n$/)
      const ok = s.sq(['enqueue', 'tasks#echo', '--queue', s.q, '--args', nested(64)])
      assert.equal((await ok.ended()).code, 0, ok.output)
      await assert.rejects(s.queue.enqueue({ task: 'tasks#echo', args: JSON.parse(DEEP) }), /nest deeper than 64/)
    })

    it('leaves every view working, showing the bad values as malformed', async () => {
      const normal = await s.enqueue('tasks#echo', { fine: true })
      const deep = await insertRaw(s, POISON.deep)
      const notJson = await insertRaw(s, POISON.notJson)
      // Progress as no task yields it, on a running task and on an ended one.
      const db = s.queue.backend.db
      const now = new Date().toISOString()
      await db
        .updateTable('sq_tasks')
        .set({ status: 'progress', started: now, progress: '{"current":' })
        .where('id', '=', deep)
        .execute()
      await db
        .updateTable('sq_tasks')
        .set({ status: 'failed', finished: now, progress: '{"current":{"x":1},"message":7}' })
        .where('id', '=', notJson)
        .execute()

      const list = s.sq(['list', '--json'])
      assert.equal((await list.ended()).code, 0, list.output)
      const records = JSON.parse(list.stdout) as Array<{ id: string; args: unknown; progress: unknown }>
      const byId = new Map(records.map((r) => [r.id, r]))
      assert.deepEqual(byId.get(normal)?.args, { fine: true })
      assert.equal(byId.get(deep)?.args, POISON.deep)
      assert.equal(byId.get(deep)?.progress, '{"current":')
      assert.equal(byId.get(notJson)?.args, POISON.notJson)
      assert.equal(byId.get(notJson)?.progress, '{"current":{"x":1},"message":7}')

      const table = s.sq(['list'])
      assert.equal((await table.ended()).code, 0, table.output)
      assert.match(table.stdout, /tasks#echo/)

      for (const id of [deep, notJson]) {
        const show = s.sq(['show', id])
        assert.equal((await show.ended()).code, 0, show.output)
        assert.match(show.stdout, /^args:\s+\(malformed\) /m)
        assert.match(show.stdout, /^progress:\s+\(malformed\) /m)
        const json = s.sq(['show', id, '--json'])
        assert.equal((await json.ended()).code, 0, json.output)
        assert.equal(typeof (JSON.parse(json.stdout) as { args: unknown }).args, 'string')
      }

      const served = await startServe(s)
      try {
        for (const id of [deep, notJson]) {
          const api = await fetch(`${served.base}/api/tasks/${id}`)
          assert.equal(api.status, 200)
          assert.equal(((await api.json()) as { id: string }).id, id)
          const page = await fetch(`${served.base}/task?task_id=${id}`)
          assert.equal(page.status, 200)
          assert.match(await page.text(), /<th>args<\/th><td>\(malformed\) /)
          const plain = await fetch(`${served.base}/task?task_id=${id}&type=json`)
          assert.equal(plain.status, 200)
          assert.equal(typeof ((await plain.json()) as { args: unknown }).args, 'string')
        }
        const overview = await fetch(`${served.base}/api/overview`)
        assert.equal(overview.status, 200)
        const running = ((await overview.json()) as { running: Array<{ id: string; progress: unknown }> }).running
        assert.equal(running.find((r) => r.id === deep)?.progress, '{"current":')
      } finally {
        await served.stop()
      }
    })
  })
}
