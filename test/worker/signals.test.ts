import assert from 'node:assert/strict'
import fs from 'node:fs'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { workerSuite } from '../helpers/worker.js'

const TASKS = `
export function* gen() { yield 'one '; yield 'two '; yield 'three' }
export function text() { return 'done' }
export function boom() { throw new Error('kaboom') }
export async function* genFail() { yield 'partial'; throw new Error('broke after a yield') }
`

/** Each hook appends what it was given, as a JSON line, to the file the task's args name. */
const HOOKS = `
import fs from 'node:fs'
const note = (hook, task, ...rest) =>
  fs.appendFileSync(task.args.log, JSON.stringify({ hook, task, rest: rest.map((r) => r instanceof Error ? { message: r.message } : r) }) + '\\n')
export function beforeJob(task) { note('beforeJob', task) }
export function beforeLoop(task, iteration) { note('beforeLoop', task, iteration) }
export function afterLoop(task, output, iteration) { note('afterLoop', task, output, iteration) }
export function onSuccess(task) { note('onSuccess', task) }
export function onFailure(task, error) { note('onFailure', task, error) }
`

interface Call {
  hook: string
  task: {
    id: string
    task: string
    args: { log: string }
    attempt: number
    status: string
    output: string | null
    error?: string
  }
  rest: unknown[]
}

/** The seed's signals: their order, and what each is given (SPEC §7). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `hooks in the seed's order, with the seed's arguments (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS, 'hooks.mjs': HOOKS })

    /** Runs one task with the hooks; returns its id and the hooks' calls as [hook, status, output, …rest]. */
    async function hooked(task: string, exit: 0 | 1 = 0): Promise<{ id: string; calls: Call[]; brief: unknown[][] }> {
      const log = s.file(`${task.replace('#', '-')}.jsonl`)
      const id = await s.enqueue(task, { log })
      await s.burst([], { SQ_HOOKS: 'hooks' }, { exit })
      const calls = fs
        .readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Call)
      for (const c of calls)
        assert.deepEqual([c.task.id, c.task.task, c.task.args, c.task.attempt], [id, task, { log }, 1])
      return { id, calls, brief: calls.map((c) => [c.hook, c.task.status, c.task.output, ...c.rest]) }
    }

    it('a generator: beforeLoop and afterLoop once per yield, afterLoop given the value just yielded', async () => {
      const { brief } = await hooked('tasks#gen')
      assert.deepEqual(brief, [
        ['beforeJob', 'progress', null],
        ['beforeLoop', 'progress', null, 0],
        ['afterLoop', 'progress', 'one ', 'one ', 0],
        ['beforeLoop', 'progress', 'one ', 1],
        ['afterLoop', 'progress', 'one two ', 'two ', 1],
        ['beforeLoop', 'progress', 'one two ', 2],
        ['afterLoop', 'progress', 'one two three', 'three', 2],
        ['onSuccess', 'completed', 'one two three'],
      ])
    })

    it('onSuccess sees the task completed with its output', async () => {
      const { brief } = await hooked('tasks#text')
      assert.deepEqual(brief, [
        ['beforeJob', 'progress', null],
        ['onSuccess', 'completed', 'done'],
      ])
    })

    it('onFailure sees the task failed with its output and error, and is given the error thrown', async () => {
      const { id, calls, brief } = await hooked('tasks#boom', 1)
      assert.deepEqual(brief, [
        ['beforeJob', 'progress', null],
        ['onFailure', 'failed', null, { message: 'kaboom' }],
      ])
      assert.match(calls[1]!.task.error!, /^Error: kaboom\n\s+at boom/)
      assert.equal(calls[1]!.task.error, (await s.get(id)).error)

      const failed = await hooked('tasks#genFail', 1)
      assert.deepEqual(failed.brief.at(-1), ['onFailure', 'failed', 'partial', { message: 'broke after a yield' }])
    })
  })
}
