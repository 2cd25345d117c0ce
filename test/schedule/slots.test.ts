import assert from 'node:assert/strict'
import { cronOf, parseSchedules, type CatchUp } from '../../src/schedule/definition.js'
import { dueSlots, nextSlot } from '../../src/schedule/slots.js'

// The documented numbers (README, "Recurring schedules"), not the code's constants: a change to either
// must be a change to the docs too.
/** `catchUp: 'all'` enqueues "at most the 100 newest" missed slots. */
const DOCUMENTED_CATCH_UP_LIMIT = 100
/** "a slot reached within 10 s of its time is not 'missed' and fires". */
const DOCUMENTED_ON_TIME_MS = 10_000

const at = (iso: string) => Date.parse(iso)
const iso = (ms: number) => new Date(ms).toISOString()
const due = (cron: string, since: string, now: string, catchUp: CatchUp, timezone: string | null = null) => {
  const d = dueSlots(cronOf({ cron, timezone }), at(since), at(now), catchUp)
  return { fire: d.fire.map(iso), last: d.last === null ? null : iso(d.last), skipped: d.skipped }
}

describe('schedule slots (pure)', () => {
  it('fires the slot that just came due, and nothing between slots', () => {
    assert.deepEqual(due('*/5 * * * *', '2026-01-01T00:00:00Z', '2026-01-01T00:05:00.200Z', 'latest'), {
      fire: ['2026-01-01T00:05:00.000Z'],
      last: '2026-01-01T00:05:00.000Z',
      skipped: 0,
    })
    assert.deepEqual(due('*/5 * * * *', '2026-01-01T00:05:00Z', '2026-01-01T00:09:59.999Z', 'latest'), {
      fire: [],
      last: null,
      skipped: 0,
    })
    // A slot exactly at the database's now is due; one exactly at the last slot is not again.
    assert.deepEqual(due('*/5 * * * *', '2026-01-01T00:05:00Z', '2026-01-01T00:10:00Z', 'all').fire, [
      '2026-01-01T00:10:00.000Z',
    ])
  })

  it("catchUp 'latest' fires only the newest missed slot", () => {
    assert.deepEqual(due('0 * * * *', '2026-01-01T00:00:00Z', '2026-01-01T05:30:00Z', 'latest'), {
      fire: ['2026-01-01T05:00:00.000Z'],
      last: '2026-01-01T05:00:00.000Z',
      skipped: -1,
    })
  })

  it("catchUp 'none' skips missed slots but fires one reached on time", () => {
    assert.deepEqual(due('0 * * * *', '2026-01-01T00:00:00Z', '2026-01-01T05:30:00Z', 'none'), {
      fire: [],
      last: '2026-01-01T05:00:00.000Z',
      skipped: -1,
    })
    const onTime = new Date(at('2026-01-01T05:00:00Z') + DOCUMENTED_ON_TIME_MS).toISOString()
    assert.deepEqual(due('0 * * * *', '2026-01-01T04:00:00Z', onTime, 'none').fire, ['2026-01-01T05:00:00.000Z'])
    const late = new Date(at('2026-01-01T05:00:00Z') + DOCUMENTED_ON_TIME_MS + 1000).toISOString()
    assert.deepEqual(due('0 * * * *', '2026-01-01T04:00:00Z', late, 'none').fire, [])
  })

  it("catchUp 'all' fires every missed slot, oldest first, at most the 100 newest", () => {
    assert.deepEqual(due('0 * * * *', '2026-01-01T00:00:00Z', '2026-01-01T03:10:00Z', 'all'), {
      fire: ['2026-01-01T01:00:00.000Z', '2026-01-01T02:00:00.000Z', '2026-01-01T03:00:00.000Z'],
      last: '2026-01-01T03:00:00.000Z',
      skipped: 0,
    })
    const many = due('* * * * *', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'all')
    assert.equal(many.fire.length, DOCUMENTED_CATCH_UP_LIMIT)
    assert.equal(many.fire.at(-1), '2026-01-02T00:00:00.000Z')
    assert.equal(
      many.fire[0],
      new Date(at('2026-01-02T00:00:00Z') - (DOCUMENTED_CATCH_UP_LIMIT - 1) * 60_000).toISOString(),
    )
    assert.equal(many.skipped, -1)
  })

  it('reads 6 fields as seconds first, names like @daily, and the timezone', () => {
    assert.deepEqual(due('*/2 * * * * *', '2026-01-01T00:00:00Z', '2026-01-01T00:00:05.5Z', 'all').fire, [
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:04.000Z',
    ])
    assert.equal(
      iso(nextSlot(cronOf({ cron: '@daily', timezone: null }), at('2026-03-10T12:00:00Z'))!),
      '2026-03-11T00:00:00.000Z',
    )
    assert.equal(
      iso(nextSlot(cronOf({ cron: '@hourly', timezone: null }), at('2026-03-10T12:00:00Z'))!),
      '2026-03-10T13:00:00.000Z',
    )
    assert.equal(
      iso(nextSlot(cronOf({ cron: '0 9 * * *', timezone: 'America/New_York' }), at('2026-07-01T00:00:00Z'))!),
      '2026-07-01T13:00:00.000Z',
    )
    // Standard cron: day of month OR day of week when both are restricted.
    assert.equal(
      iso(nextSlot(cronOf({ cron: '0 0 13 * 5', timezone: null }), at('2026-01-01T00:00:00Z'))!),
      '2026-01-02T00:00:00.000Z',
    )
  })
})

describe('schedules in the config (parseSchedules)', () => {
  const bad = (value: unknown, pattern: RegExp) =>
    assert.throws(
      () => parseSchedules(value, 'sq.config.json'),
      (e: Error & { exitCode?: number }) => {
        assert.match(e.message, pattern)
        assert.equal(e.exitCode, 2)
        assert.doesNotMatch(e.message, /\n/)
        return true
      },
    )

  it('fills the defaults', () => {
    assert.deepEqual(parseSchedules([{ name: 'n', cron: '@weekly', task: 'tasks#hello' }], 'f'), [
      {
        name: 'n',
        cron: '@weekly',
        task: 'tasks#hello',
        args: {},
        queue: 'default',
        priority: 0,
        timezone: null,
        catchUp: 'latest',
      },
    ])
    assert.deepEqual(parseSchedules(undefined, 'f'), [])
  })

  it('names the schedule and the problem', () => {
    bad(
      [{ name: 'nightly', cron: '61 * * * *', task: 't#x' }],
      /^schedule "nightly" from sq\.config\.json: cron "61 \* \* \* \*" is malformed: .*minute/,
    )
    bad([{ name: 'nightly', cron: '* * *', task: 't#x' }], /schedule "nightly" .*cron "\* \* \*" is malformed/)
    bad([{ name: 'nightly', cron: '0 0 1 1 * 2030', task: 't#x' }], /schedule "nightly" .*cron .* is malformed/)
    bad([{ name: 'nightly', cron: '@sometimes', task: 't#x' }], /schedule "nightly" .*cron "@sometimes" is malformed/)
    bad(
      [{ name: 'tz', cron: '@daily', task: 't#x', timezone: 'Mars/Olympus' }],
      /schedule "tz" .*unknown timezone "Mars\/Olympus"/,
    )
    bad(
      [
        { name: 'a', cron: '@daily', task: 't#x' },
        { name: 'a', cron: '@hourly', task: 't#y' },
      ],
      /schedule "a" .*defined twice/,
    )
    bad(
      [{ name: 'c', cron: '@daily', task: 't#x', catchUp: 'some' }],
      /schedule "c" .*catchUp must be latest, none, all/,
    )
    bad([{ name: 'r', cron: '@daily', task: '#x' }], /schedule "r" .*malformed task reference/)
    bad([{ name: 'q', cron: '@daily', task: 't#x', queue: 'a b' }], /schedule "q" .*queue "a b"/)
    bad([{ name: 'u', cron: '@daily', task: 't#x', every: 5 }], /schedule "u" .*unknown field "every"/)
    bad([{ cron: '@daily', task: 't#x' }], /schedule #1 .*needs a name/)
    bad([{ name: 'sq:retention', cron: '@daily', task: 't#x' }], /schedule "sq:retention" .*reserved for sq/)
    bad({ name: 'x' }, /schedules from sq\.config\.json must be a list/)
  })
})
