import assert from 'node:assert/strict'
import {
  CLEARED_CLAIM,
  CLEARED_RESULTS,
  RECORD_COLUMNS,
  toTask,
  USAGE,
  type TaskRow,
} from '../../src/storage/task-row.js'

/** The field names SPEC §4 and §10 promise on every `--json` task record, written out as the SPEC says them. */
const SPEC_FIELDS = [
  'id',
  'task',
  'args',
  'status',
  'output',
  'error',
  'log',
  'worker_pid',
  'worker',
  'created',
  'modified',
  'started',
  'finished',
  'attempts',
  'max_attempts',
  'run_at',
  'priority',
  'queue',
  'key',
  'progress',
  'cpu_ms',
  'peak_rss_bytes',
  'duration_ms',
]

const ROW: TaskRow = {
  id: 'a1',
  task: 't#x',
  args: '{"n":1}',
  status: 'completed',
  output: 'out',
  error: null,
  log: null,
  worker_pid: 7,
  worker: 'h:7',
  worker_id: 'w1',
  created: '2026-11-29T08:00:00.000Z',
  modified: new Date('2026-11-29T08:00:02.000Z'),
  started: '2026-11-29T08:00:01.000Z',
  finished: null,
  attempts: 1,
  max_attempts: 1,
  run_at: '2026-11-29T08:00:00.000Z',
  priority: 0,
  queue: 'default',
  key: null,
  progress: '{"current":1,"total":2}',
  cpu_ms: 3,
  peak_rss_bytes: '5000000000' as unknown as number,
  duration_ms: 12,
  claims: 1,
}

describe('the task row (task-row.ts)', () => {
  it('gives the record exactly the SPEC fields, in its order, and keeps worker_id internal', () => {
    assert.deepEqual([...RECORD_COLUMNS], SPEC_FIELDS)
  })

  it('reads a row into the record: JSON parsed, timestamps as ISO text, int8 as a number, worker_id left out', () => {
    const task = toTask({ toIso: (value) => new Date(value).toISOString() }, ROW)
    assert.deepEqual(Object.keys(task), SPEC_FIELDS)
    assert.deepEqual(task.args, { n: 1 })
    assert.deepEqual(task.progress, { current: 1, total: 2 })
    assert.equal(task.modified, '2026-11-29T08:00:02.000Z')
    assert.equal(task.finished, null)
    assert.equal(task.peak_rss_bytes, 5_000_000_000)
  })

  it('clears a run’s results on a claim or requeue, and the claim’s holder when a task goes back to the queue', () => {
    assert.deepEqual(Object.keys(CLEARED_RESULTS).sort(), [
      'cpu_ms',
      'duration_ms',
      'error',
      'finished',
      'log',
      'output',
      'peak_rss_bytes',
      'progress',
    ])
    assert.ok(Object.values(CLEARED_RESULTS).every((value) => value === null))
    assert.deepEqual(CLEARED_CLAIM, { worker_pid: null, worker: null, worker_id: null, started: null })
  })

  it('names each usage column with its camelCase field of a run', () => {
    assert.deepEqual(USAGE, [
      { column: 'cpu_ms', field: 'cpuMs' },
      { column: 'peak_rss_bytes', field: 'peakRssBytes' },
      { column: 'duration_ms', field: 'durationMs' },
    ])
  })
})
