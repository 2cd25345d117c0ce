import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'
import { waitFor } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

const MARKER = `
import fs from 'node:fs'
// Top level: runs as soon as the module is imported.
fs.writeFileSync(new URL('./marker-imported', import.meta.url), 'imported')
export default function () { return 'ran' }
`

const HOOKS = `
export function beforeJob(task) { console.log('hook beforeJob ' + task.id + ' ' + task.task) }
export function onSuccess(task) { process.stdout.write('hook onSuccess ' + task.id + '\\n') }
export function onFailure(task, error) { console.error('hook onFailure ' + task.id + ': ' + error.message) }
export function beforeLoop(task, iteration) { console.log('hook beforeLoop ' + iteration) }
export function afterLoop(task, output, iteration) { console.log('hook afterLoop ' + iteration + ' ' + JSON.stringify(output)) }
`

const THROWING_HOOKS = `
export function beforeJob() { throw new Error('the hook broke') }
export function onSuccess() { console.log('onSuccess still runs') }
`

/** The allowlist at execution, hooks, and retries (SPEC §7, §10). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker policy (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, {
      'tasks.mjs': TASKS,
      'marker.mjs': MARKER,
      'hooks.mjs': HOOKS,
      'throwing-hooks.mjs': THROWING_HOOKS,
      'configured/sq.config.json': JSON.stringify({ hooks: 'hooks' }),
      'configured/hooks.mjs': HOOKS,
      'configured/tasks.mjs': TASKS,
    })

    it('refuses to run a task that is not on the allowlist, without importing its module', async () => {
      // Inserted with no allowlist in force, as another process or an old row might have.
      const refused = await s.enqueue('marker')
      const allowed = await s.enqueue('tasks#text')
      await s.burst([], { SQ_ALLOWED_TASKS: 'tasks#text,other#thing' }, { exit: 1 })
      const t = await s.get(refused)
      assert.equal(t.status, 'failed')
      assert.match(t.error!, /task not allowed/)
      assert.equal(fs.existsSync(path.join(s.db.dir, 'marker-imported')), false, 'the module was never imported')
      assert.equal((await s.get(allowed)).status, 'completed')
    })

    it('refuses to run a task whose reference leaves the root, without importing its module', async () => {
      // A module outside the root, and a row naming it that did not come through `sq enqueue`.
      const outside = fs.mkdtempSync(path.join(path.dirname(s.db.dir), 'sq-outside-'))
      fs.writeFileSync(path.join(outside, 'marker.mjs'), MARKER)
      const id = await insert(s.queue.backend, { task: `../${path.basename(outside)}/marker`, queue: s.q })
      await s.burst([], {}, { exit: 1 })
      const t = await s.get(id)
      assert.equal(t.status, 'failed')
      assert.match(t.error!, /task not allowed: .* leaves the root/)
      assert.equal(fs.existsSync(path.join(outside, 'marker-imported')), false, 'the module was never imported')
      fs.rmSync(outside, { recursive: true, force: true })
    })

    it('runs hooks in the task process; what they print goes to the task log (SQ_HOOKS)', async () => {
      const ok = await s.enqueue('tasks#text')
      const bad = await s.enqueue('tasks#boom')
      const gen = await s.enqueue('tasks#gen')
      await s.burst([], { SQ_HOOKS: 'hooks' }, { exit: 1 })
      const [o, b, g] = await Promise.all([s.get(ok), s.get(bad), s.get(gen)])
      assert.equal(o.status, 'completed')
      assert.match(o.log!, new RegExp(`^hook beforeJob ${ok} tasks#text$`, 'm'))
      assert.match(o.log!, new RegExp(`^hook onSuccess ${ok}$`, 'm'))
      assert.doesNotMatch(o.log!, /onFailure/)
      assert.equal(b.status, 'failed')
      assert.match(b.log!, new RegExp(`^hook onFailure ${bad}: boom: the task broke$`, 'm'))
      assert.doesNotMatch(b.log!, /onSuccess/)
      assert.equal(g.output, 'one two three')
      assert.match(g.log!, /^hook beforeLoop 0$/m)
      assert.match(g.log!, /^hook afterLoop 2 "three"$/m)
    })

    it('takes the hooks module from the config file too', async () => {
      const id = await s.enqueue('tasks#text')
      await s.burst(['--root', path.join(s.db.dir, 'configured')])
      const t = await s.get(id)
      assert.equal(t.status, 'completed', t.error ?? '')
      assert.match(t.log!, new RegExp(`^hook beforeJob ${id} tasks#text$`, 'm'))
    })

    it('writes a hook that throws to the log and changes nothing else', async () => {
      const id = await s.enqueue('tasks#text')
      await s.burst([], { SQ_HOOKS: 'throwing-hooks' })
      const t = await s.get(id)
      assert.equal(t.status, 'completed')
      assert.equal(t.output, 'a string result')
      assert.equal(t.error, null)
      assert.match(t.log!, /hook beforeJob threw: Error: the hook broke/)
      assert.match(t.log!, /onSuccess still runs/)
    })

    it('retries a failing task with --max-attempts 3 until it completes, backing off 2 s, then 4 s', async function () {
      this.timeout(30_000)
      const counter = s.file('runs')
      const id = await s.enqueue('tasks#flaky', { counter, failures: 2 }, { maxAttempts: 3 })
      const worker = s.worker()
      // Each retry is scheduled `backoff` seconds after its verdict; the test checks that, then moves
      // the retry's run_at to now rather than wait the backoff out (the backoff itself: pure-parts.test.ts).
      for (const [attempts, backoff] of [
        [1, 2],
        [2, 4],
      ] as const) {
        const retry = await waitFor(
          async () => {
            const task = await s.get(id)
            return task.status === 'queued' && task.attempts === attempts ? task : undefined
          },
          15_000,
          `retry ${attempts}`,
        )
        assert.equal(Date.parse(retry.run_at) - Date.parse(retry.modified), backoff * 1000)
        await s.queue.backend.db.updateTable('sq_tasks').set({ run_at: retry.modified }).where('id', '=', id).execute()
      }
      const t = await s.waitForStatus(id, ['completed', 'failed'], 15_000)
      assert.equal(t.status, 'completed', t.error ?? '')
      assert.equal(t.output, 'succeeded on run 3')
      assert.equal(t.attempts, 3)
      assert.equal(t.max_attempts, 3)
      assert.equal(fs.readFileSync(counter, 'utf8'), '3')
      assert.match(worker.stdout, /will retry \(in 2s\)/)
      assert.match(worker.stdout, /will retry \(in 4s\)/)
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })
  })
}
