import assert from 'node:assert/strict'
import { outcomeOf, type RunEnd } from '../../src/worker/outcome.js'
import { sentinel, sentinelPrefixAt } from '../../src/worker/protocol.js'
import { Run, RunOutput } from '../../src/worker/run.js'

/** The pure decisions of the worker, reached otherwise only through real task processes. */

const LIMITS = { timeoutSeconds: 60 }
const WRITTEN = { durationMs: 5, chunksWritten: false }
const usage = { cpuMs: 2, peakRss: 1000 }
const lastAttempt = { attempt: 1, maxAttempts: 1 }

describe('outcomeOf: the verdict of a run', () => {
  it('completes a completed run, with its usage and what was written', () => {
    const outcome = outcomeOf({ kind: 'completed', output: 'ok', ...usage }, lastAttempt, LIMITS, WRITTEN)
    assert.deepEqual(outcome, {
      status: 'completed',
      durationMs: 5,
      chunksWritten: false,
      cpuMs: 2,
      peakRssBytes: 1000,
    })
  })

  it('fails each other ending on the last attempt, with an error that says why', () => {
    const cases: Array<[RunEnd, string]> = [
      [{ kind: 'threw', error: 'Error: boom', ...usage }, 'Error: boom'],
      [{ kind: 'refused', error: 'not allowed' }, 'not allowed'],
      [{ kind: 'exited', code: 3, signal: null }, 'Worker subprocess exited with code 3'],
      [{ kind: 'exited', code: null, signal: 'SIGKILL' }, 'Worker subprocess was killed by signal SIGKILL'],
      [
        { kind: 'exited', code: null, signal: 'SIGABRT' },
        'Worker subprocess was killed by signal SIGABRT (out of memory?)',
      ],
      [{ kind: 'killed', reason: 'timeout' }, 'Task timed out after 60 seconds'],
    ]
    for (const [end, error] of cases) {
      const outcome = outcomeOf(end, lastAttempt, LIMITS, WRITTEN)
      assert.equal(outcome.status, 'failed', end.kind)
      assert.equal(outcome.error, error)
    }
  })

  it('gives a run its worker stopped back to the queue at once, uncharged, even on its last attempt', () => {
    const outcome = outcomeOf({ kind: 'killed', reason: 'stop' }, lastAttempt, LIMITS, {
      ...WRITTEN,
      ran: { startedAt: 1, endedAt: 2 },
    })
    assert.deepEqual(outcome, {
      status: 'queued',
      givenBack: 'stop',
      durationMs: 5,
      chunksWritten: false,
    })
  })

  it('keeps the usage of a run that threw, and has none for a process that died', () => {
    assert.equal(outcomeOf({ kind: 'threw', error: 'x', ...usage }, lastAttempt, LIMITS, WRITTEN).cpuMs, 2)
    assert.equal(outcomeOf({ kind: 'exited', code: 1, signal: null }, lastAttempt, LIMITS, WRITTEN).cpuMs, undefined)
  })

  it('sends a failure with attempts left back to the queue, the backoff doubling per attempt up to an hour', () => {
    const retry = (attempt: number) =>
      outcomeOf({ kind: 'threw', error: 'x', ...usage }, { attempt, maxAttempts: 99 }, LIMITS, WRITTEN)
    const backoff = (attempt: number) => {
      const outcome = retry(attempt)
      assert.ok('retryAfterSeconds' in outcome, `attempt ${attempt} is not retried`)
      assert.deepEqual([outcome.status, outcome.error], ['queued', 'x'])
      return outcome.retryAfterSeconds
    }
    assert.deepEqual([1, 2, 3, 20].map(backoff), [2, 4, 8, 3600])
  })

  it('never retries a completed run, whatever attempts are left', () => {
    assert.equal(
      outcomeOf({ kind: 'completed', output: null, ...usage }, { attempt: 1, maxAttempts: 5 }, LIMITS, WRITTEN).status,
      'completed',
    )
  })
})

describe('RunOutput: what a run has produced and not yet written', () => {
  it('takes what was appended per stream, with the latest progress, and is empty after', () => {
    const out = new RunOutput(1000)
    assert.equal(out.empty, true)
    out.append('output', 'a')
    out.append('output', 'b')
    out.append('log', 'L')
    out.setProgress({ current: 1 })
    out.setProgress({ current: 2, total: 3 })
    assert.deepEqual(out.take(), { output: 'ab', log: 'L', progress: { current: 2, total: 3 } })
    assert.equal(out.empty, true)
    assert.deepEqual(out.take(), {})
  })

  it('cuts a stream at maxBytes, across batches, with one marker, and drops what comes after', () => {
    const out = new RunOutput(10)
    out.append('output', '12345')
    assert.deepEqual(out.take(), { output: '12345' })
    out.append('output', '67890abc')
    out.append('output', 'more')
    assert.deepEqual(out.take(), { output: '67890\n[sq: output truncated at maxOutputSize (10 bytes)]\n' })
    out.append('output', 'still more')
    assert.equal(out.empty, true)
  })

  it('counts bytes, not characters, and never cuts a character in half', () => {
    const out = new RunOutput(5)
    out.append('log', 'ééé') // 6 bytes: the third é does not fit whole
    assert.equal(out.take().log, 'éé\n[sq: log truncated at maxOutputSize (5 bytes)]\n')
  })

  it('cuts each stream on its own', () => {
    const out = new RunOutput(3)
    out.append('output', 'abcd')
    out.append('log', 'xyz')
    const batch = out.take()
    assert.match(batch.output!, /^abc\n\[sq: output truncated/)
    assert.equal(batch.log, 'xyz')
  })
})

describe('Run: the states of a claimed run in its worker', () => {
  const claimed = () =>
    new Run({ id: 'a', claim: 1, task: 'tasks#t', attempts: 1, max_attempts: 1 } as Run['task'], 1000, false)

  it('goes waiting → handed → running → ending, with its times', () => {
    const run = claimed()
    run.handed()
    run.started()
    run.processDone()
    run.ending()
    assert.equal(run.state, 'ending')
    assert.ok(run.startedAt > 0 && run.endedAt >= run.startedAt)
  })

  it('throws on a transition its diagram lacks: a worker bug shows where it happens', () => {
    assert.throws(() => claimed().started(), /cannot go from waiting to running/)
    assert.throws(() => claimed().ending(), /cannot go from waiting to ending/)
    const handed = claimed()
    handed.handed()
    assert.throws(() => handed.handed(), /cannot go from handed to handed/)
  })

  it('stays lost once lost: a start kills it, a take-back drops it', () => {
    const run = claimed()
    run.handed()
    assert.equal(run.lose(), 'handed')
    run.started()
    assert.equal(run.state, 'lost')
    assert.equal(run.takenBack(true), false)
    assert.equal(run.state, 'lost')
  })

  it('a run refused before it began ends with no time of its own', () => {
    const run = claimed()
    run.handed()
    run.processDone()
    run.ending()
    assert.equal(run.startedAt, run.endedAt)
  })
})

describe('sentinelPrefixAt: what a pipe reader holds back for a sentinel split across reads', () => {
  const mark = sentinel('0b5e', 2)

  it('holds back nothing when no tail can begin the sentinel', () => {
    assert.equal(sentinelPrefixAt('plain log line\n', mark), 'plain log line\n'.length)
    assert.equal(sentinelPrefixAt('', mark), 0)
  })

  it('holds back a tail that is the start of the sentinel, however short', () => {
    for (const cut of [1, 5, mark.length - 1]) {
      const text = `log\n${mark.slice(0, cut)}`
      assert.equal(sentinelPrefixAt(text, mark), 4, `cut at ${cut}`)
    }
  })

  it('lets a task’s own NUL characters through when what follows them is not the sentinel', () => {
    assert.equal(sentinelPrefixAt('a\u0000b', mark), 3)
    assert.equal(sentinelPrefixAt('a\u0000sq-run-end:other', mark), 'a\u0000sq-run-end:other'.length)
  })

  it('does not take another run’s sentinel for this one', () => {
    const other = sentinel('0b5e', 1)
    assert.equal(sentinelPrefixAt(other.slice(0, -3), mark), 0, 'a common start is held back…')
    assert.equal(sentinelPrefixAt(other.slice(0, -2), mark), other.length - 2, '…until it differs')
  })
})
