import assert from 'node:assert/strict'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * One duration rule for every flag, config key and variable (config.ts parseDuration): `sq worker
 * --timeout 2m` is taken as `taskTimeout: "2m"` in the config is; a number of seconds still works.
 */
describe('durations: one rule for flags, config keys and variables', function () {
  this.timeout(60_000)
  const s = workerSuite('sqlite', { 'tasks.mjs': TASKS })

  it('sq worker takes --timeout and --grace as durations, and honours the unit', async () => {
    const slow = await s.enqueue('tasks#sleepy', { ms: 5000 })
    const fast = await s.enqueue('tasks#sleepy', { ms: 10 })
    await s.burst(['--timeout', '700ms', '--grace', '1m'], {}, { exit: 1 })
    const timedOut = await s.get(slow)
    assert.equal(timedOut.status, 'failed')
    assert.match(timedOut.error ?? '', /time/i)
    assert.equal((await s.get(fast)).status, 'completed')
    for (const timeout of ['2m', '1h30m', '600', '0']) await s.burst(['--timeout', timeout])
  })

  it('a bad duration is refused the same way from the flag, the variable and the config file', async () => {
    const flag = s.sq(['worker', '--burst', '--timeout', '2x'])
    const variable = s.sq(['worker', '--burst'], { SQ_TASK_TIMEOUT: 'soon' })
    for (const p of [flag, variable]) assert.equal((await p.ended()).code, 2, p.output)
    assert.match(flag.stderr, /^sq: --timeout must be a duration like 90s, .* or a number of seconds, got "2x"\n$/)
    assert.match(variable.stderr, /^sq: taskTimeout from SQ_TASK_TIMEOUT must be a duration like .*, got "soon"\n$/)
    s.write('sq.config.json', JSON.stringify({ taskTimeout: '10m' }))
    try {
      const fromFile = s.sq(['worker', '--burst'])
      assert.equal((await fromFile.ended()).code, 0, fromFile.output)
    } finally {
      s.write('sq.config.json', '{}')
    }
  })
})
