import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * PostgreSQL's text cannot hold NUL; a task whose result, yields, log or error had one could not be
 * recorded and was run again and again. Both databases store NUL (and half of a surrogate pair) as U+FFFD
 * and keep the rest.
 */
const NUL_TASKS = `
export function returns() { return 'a\\u0000b' }
export function* yields() { yield 'c\\u0000d'; yield 'e' }
export function logs() { console.log('f\\u0000g'); return 'logged' }
export function throws() { throw new Error('h\\u0000i') }
export function halves() { return 'm' + '\\ud83d\\ude00'.slice(0, 1) + 'n' }
`

for (const dialect of DIALECTS) {
  describeOn(dialect, `NUL characters in what a task produces (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'nul.mjs': NUL_TASKS })

    it('are stored as U+FFFD, and every verdict is recorded on its first attempt', async () => {
      const ids = {
        returns: await s.enqueue('nul#returns', {}, { maxAttempts: 3 }),
        yields: await s.enqueue('nul#yields', {}, { maxAttempts: 3 }),
        logs: await s.enqueue('nul#logs', {}, { maxAttempts: 3 }),
        throws: await s.enqueue('nul#throws'),
        halves: await s.enqueue('nul#halves', {}, { maxAttempts: 3 }),
      }
      await s.burst([], {}, { exit: 1 }) // `throws` fails
      const returns = await s.get(ids.returns)
      assert.equal(returns.status, 'completed')
      assert.equal(returns.output, 'a\uFFFDb')
      assert.equal(returns.attempts, 1)
      const yields = await s.get(ids.yields)
      assert.equal(yields.status, 'completed')
      assert.equal(yields.output, 'c\uFFFDde')
      const logs = await s.get(ids.logs)
      assert.equal(logs.status, 'completed')
      assert.match(logs.log ?? '', /f\uFFFDg/)
      const throws = await s.get(ids.throws)
      assert.equal(throws.status, 'failed')
      assert.match(throws.error ?? '', /h\uFFFDi/)
      // Half of a surrogate pair is no character either: U+FFFD too, recorded at once.
      const halves = await s.get(ids.halves)
      assert.equal(halves.status, 'completed')
      assert.equal(halves.output, 'm\uFFFDn')
      assert.equal(halves.attempts, 1)
    })

    it('are stored as U+FFFD in output streamed while the task runs', async () => {
      s.write(
        `${s.q}/slow.mjs`,
        `export async function* slow() { yield 'j\\u0000k'; await new Promise((r) => setTimeout(r, 800)); yield 'l' }\n`,
      )
      const id = await s.enqueue(`${s.q}/slow#slow`)
      const worker = s.worker()
      const running = await (async () => {
        for (;;) {
          const t = await s.get(id)
          if (t.output?.includes('j') || (t.status !== 'queued' && t.status !== 'progress')) return t
          await new Promise((r) => setTimeout(r, 50))
        }
      })()
      assert.equal(running.output?.startsWith('j\uFFFDk'), true, `streamed output: ${JSON.stringify(running.output)}`)
      const done = await s.waitForStatus(id)
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'j\uFFFDkl')
      worker.signal('SIGTERM')
      await worker.ended()
    })
  })
}
