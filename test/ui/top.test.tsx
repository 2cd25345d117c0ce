import assert from 'node:assert/strict'
// biome-ignore lint/style/useImportType: the tests' loader compiles JSX to React.createElement
import React from 'react'
import { render } from 'ink-testing-library'
import type { MonitorSource, Pane, Snapshot, SnapshotOptions } from '../../src/monitor.js'
import { theme } from '../../ui/top/theme.js'
import { Top } from '../../ui/top/top.js'
import { computeLayout } from '../../ui/top/layout.js'

/**
 * Frames of the `sq top` container for each state, driven by a scripted source (the queries behind a
 * real source are tested in monitor.test.ts). We wait for frames, never sleep, and strip ANSI first.
 */

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g
const strip = (text: string | undefined) => (text ?? '').replace(ANSI, '')

async function waitFor(
  frame: () => string | undefined,
  ok: (text: string) => boolean,
  what: string,
  ms = 3000,
): Promise<string> {
  const until = Date.now() + ms
  for (;;) {
    const text = strip(frame())
    if (ok(text)) return text
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last frame:\n${text}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const AT = '2026-11-29T08:15:00.000Z'
const ID1 = '3f2a9c1d-0000-4000-8000-000000000001'
const ID2 = '7b3e0f42-0000-4000-8000-000000000002'
const FAIL = '9b1c2d3e-0000-4000-8000-000000000003'

function emptySnapshot(): Snapshot {
  return {
    at: AT,
    counts: { queued: 0, progress: 0, completed: 0, failed: 0, cancelled: 0 },
    total: 0,
    throughput: { completed: 0, failed: 0, windowSeconds: 60 },
    workers: [],
    running: [],
    listed: { status: 'failed', tasks: [] },
    pane: null,
    tookMs: 1,
  }
}

function busySnapshot(): Snapshot {
  return {
    ...emptySnapshot(),
    counts: { queued: 12, progress: 2, completed: 104_233, failed: 1, cancelled: 0 },
    total: 104_248,
    throughput: { completed: 14, failed: 1, windowSeconds: 60 },
    workers: [
      {
        id: 'w1',
        name: 'web-1:4123',
        host: 'web-1',
        pid: 4123,
        queues: ['default'],
        concurrency: 4,
        running: 2,
        started: AT,
        last_heartbeat: AT,
      },
    ],
    running: [
      {
        id: ID1,
        task: 'jobs#count',
        worker: 'web-1:4123',
        started: AT,
        elapsedMs: 12_000,
        attempt: 1,
        claims: 1,
        progress: null,
        lastLine: 'line 11',
      },
      {
        id: ID2,
        task: 'jobs#evil',
        worker: 'web-1:4123',
        started: AT,
        elapsedMs: 3_000,
        attempt: 1,
        claims: 1,
        progress: { current: 3, total: 4, message: 'almost' },
        lastLine: '\x1b[2Jgotcha',
      },
    ],
    listed: {
      status: 'failed',
      tasks: [{ id: FAIL, task: 'jobs#boom', modified: AT, agoMs: 120_000, line: 'Error: boom' }],
    },
  }
}

function paneFor(id: string, o: SnapshotOptions, text: string): Pane {
  return {
    id,
    task: 'jobs#count',
    status: 'progress',
    attempt: 1,
    stream: o.stream ?? 'output',
    worker: 'web-1:4123',
    progress: null,
    elapsedMs: 12_000,
    text,
    clipped: false,
    error: null,
    cursor: { claim: 1, seq: 1, sent: text.length, whole: true, ended: null },
  }
}

/** A source whose snapshots come from `make`, recording what it was asked. */
function scripted(make: (o: SnapshotOptions) => Snapshot) {
  const calls: SnapshotOptions[] = []
  const cancelled: string[] = []
  const requeued: string[] = []
  const source: MonitorSource = {
    async snapshot(o) {
      calls.push(o)
      return make(o)
    },
    async cancel(id) {
      cancelled.push(id)
      return `cancelled ${id.slice(0, 8)}`
    },
    async requeue(id) {
      requeued.push(id)
      return `requeued ${id.slice(0, 8)}`
    },
    async watch() {
      return async () => {}
    },
  }
  return { source, calls, cancelled, requeued }
}

/** The busy queue: the pane shows the selected task's output (first running task by default). */
function busySource(lines = 'line 0\nline 1\n\x1b]0;pwned\x07line 2\n') {
  return scripted((o) => {
    const s = busySnapshot()
    const id = o.selectedId ?? s.running[0]!.id
    return {
      ...s,
      pane:
        id === FAIL
          ? { ...paneFor(id, o, 'partial\n'), status: 'failed', task: 'jobs#boom', error: 'Error: boom\n    at x' }
          : paneFor(id, o, o.stream === 'log' ? 'a log line\n' : lines),
    }
  })
}

function assertFits(frame: string, columns: number, rows: number) {
  const lines = frame.split('\n')
  assert.ok(lines.length <= rows - 1, `${lines.length} lines for ${rows} rows:\n${frame}`)
  for (const line of lines) assert.ok([...line].length <= columns, `line wider than ${columns}: "${line}"`)
}

const press = async (stdin: { write(s: string): void }, keys: string) => {
  stdin.write(keys)
  await new Promise((r) => setImmediate(r))
}

describe('sq top (components)', () => {
  const mounted: Array<{ unmount(): void }> = []
  const mount = (el: React.ReactElement) => {
    const r = render(el)
    mounted.push(r)
    return r
  }
  afterEach(() => {
    for (const m of mounted.splice(0)) m.unmount()
  })

  it('an empty queue at 80×24', async () => {
    const { source } = scripted(emptySnapshot)
    const { lastFrame } = mount(
      <Top
        source={source}
        displayUrl="postgres://sq:***@db/sq"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    const frame = await waitFor(lastFrame, (t) => t.includes('queued 0'), 'the counts')
    assert.match(frame, /sq top {2}postgres:\/\/sq:\*\*\*@db\/sq/)
    assert.match(frame, /running 0 {2}completed 0 {2}failed 0 {2}cancelled 0/)
    assert.match(frame, /no live workers/)
    assert.match(frame, /no running tasks/)
    assert.match(frame, /no task selected/)
    assert.match(frame, /no recent failures/)
    assert.match(frame, /q quit/)
    assertFits(frame, 80, 24)
  })

  it('running tasks, their output, failures and workers at 80×24, with control sequences escaped', async () => {
    const { source } = busySource()
    const { lastFrame } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    const frame = await waitFor(lastFrame, (t) => t.includes('line 2'), 'the output pane')
    assertFits(frame, 80, 24)
    assert.match(frame, /queued 12 {2}running 2 {2}completed 104k {2}failed 1/)
    assert.match(frame, /last 60s: 14 completed, 1 failed/)
    assert.match(frame, /workers 1: web-1:4123 \(2\/4\)/)
    assert.match(frame, /Running \(2\)/)
    assert.match(frame, /▶ 3f2a9c1d jobs#count +web-1:4123 +12s\/1h00m +line 11/)
    assert.match(frame, /7b3e0f42 jobs#evil .*████░ 75% \\x1b\[2J/, 'progress bar, then the last line, escaped')
    assert.match(
      frame,
      /Output · 3f2a9c1d jobs#count · in progress 12s\/1h00m · 3 lines/,
      'the same elapsed formatter as the table',
    )
    assert.match(frame, /^line 0$/m)
    assert.match(frame, /\\x1b\]0;pwned\\x07line 2/)
    assert.match(frame, /9b1c2d3e jobs#boom +2m00s ago +Error: boom/)
    assert.ok(!/\x07|\x1b\]/.test(lastFrame() ?? ''), 'no raw control sequence from task output reaches the terminal')
  })

  it('fits a narrow terminal and uses a large one', async () => {
    const narrow = mount(
      <Top
        source={busySource().source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 50, rows: 16 }}
      />,
    )
    const small = await waitFor(narrow.lastFrame, (t) => t.includes('line 2'), 'the narrow frame')
    assertFits(small, 50, 16)
    assert.doesNotMatch(small, /WORKER/, 'the worker column gives way first')

    const many = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n')
    const wide = mount(
      <Top
        source={busySource(many).source}
        displayUrl="sqlite:sq.db"
        taskTimeout={0}
        color={false}
        size={{ columns: 160, rows: 50 }}
      />,
    )
    const big = await waitFor(wide.lastFrame, (t) => t.includes('line 39'), 'the wide frame')
    assertFits(big, 160, 50)
    assert.match(big, /WORKER/)
    assert.match(big, /^line 15$/m, 'a tall terminal shows more of the output')
    assert.match(big, /12s +line 11/, 'no limit shown when the timeout is off')
  })

  it('↑/↓ and j/k select, Enter toggles the pane, l shows the log', async () => {
    const { source, calls } = busySource()
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('line 2'), 'the first frame')
    await press(stdin, 'j')
    await waitFor(lastFrame, (t) => /▶ 7b3e0f42/.test(t) && t.includes('Output · 7b3e0f42'), 'the second task selected')
    await waitFor(
      () => JSON.stringify(calls.map((c) => c.selectedId)),
      (t) => t.includes(ID2),
      'the pane read for the new selection',
    )
    await press(stdin, 'j')
    await waitFor(
      lastFrame,
      (t) => /▶ 9b1c2d3e/.test(t) && t.includes('── error ──') && t.includes('partial'),
      'the failure selected',
    )
    await press(stdin, '\x1b[A') // ↑
    await press(stdin, 'k')
    await waitFor(lastFrame, (t) => /▶ 3f2a9c1d/.test(t), 'back to the first task')
    await press(stdin, 'jj') // two keys in one read, as when typed fast
    await waitFor(lastFrame, (t) => /▶ 9b1c2d3e/.test(t), 'two moves from one chunk')
    await press(stdin, 'kk')
    await press(stdin, '\r')
    await waitFor(lastFrame, (t) => !t.includes('Output ·'), 'the pane hidden')
    await press(stdin, '\r')
    await waitFor(lastFrame, (t) => t.includes('Output ·'), 'the pane shown again')
    await press(stdin, 'l')
    await waitFor(lastFrame, (t) => t.includes('Log · 3f2a9c1d') && t.includes('a log line'), 'the log')
  })

  it('c asks before cancelling; r requeues an ended task only', async () => {
    const { source, cancelled, requeued } = busySource()
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('line 2'), 'the first frame')
    await press(stdin, 'c')
    await waitFor(lastFrame, (t) => t.includes('Cancel 3f2a9c1d jobs#count? y: yes'), 'the confirmation')
    await press(stdin, 'n')
    await waitFor(lastFrame, (t) => t.includes('not cancelled'), 'the refusal')
    assert.deepEqual(cancelled, [])
    await press(stdin, 'c')
    await press(stdin, 'y')
    await waitFor(lastFrame, (t) => t.includes('cancelled 3f2a9c1d'), 'the cancel report')
    assert.deepEqual(cancelled, [ID1])

    await press(stdin, 'r')
    await waitFor(
      lastFrame,
      (t) => t.includes('only failed, cancelled or completed tasks can be requeued'),
      'the refusal to requeue',
    )
    await press(stdin, 'jj')
    await waitFor(lastFrame, (t) => /▶ 9b1c2d3e/.test(t) && t.includes('── error ──'), 'the failure selected')
    await press(stdin, 'r')
    await waitFor(lastFrame, (t) => t.includes('requeued 9b1c2d3e'), 'the requeue report')
    assert.deepEqual(requeued, [FAIL])
  })

  it('/ filters by task name, Esc clears; ? shows help', async () => {
    const { source, calls } = busySource()
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('line 2'), 'the first frame')
    await press(stdin, '/')
    await press(stdin, 'co')
    await waitFor(lastFrame, (t) => /^\/co /m.test(t), 'the prompt with the draft')
    await press(stdin, '\x7f') // backspace
    await press(stdin, 'ount')
    await press(stdin, '\r')
    await waitFor(lastFrame, (t) => t.includes('Running (2)  filter: count'), 'the filter applied')
    await waitFor(
      () => JSON.stringify(calls.map((c) => c.filter)),
      (t) => t.includes('"count"'),
      'a snapshot read with the filter',
    )
    await press(stdin, '\x1b')
    await waitFor(lastFrame, (t) => t.includes('Running (2) ─'), 'the filter cleared')
    await waitFor(
      () => String(calls.at(-1)?.filter),
      (t) => t === '',
      'a snapshot read without the filter',
    )

    await press(stdin, '?')
    await waitFor(lastFrame, (t) => t.includes('Keys') && t.includes('cancel the selected task'), 'the help')
    await press(stdin, 'x')
    await waitFor(lastFrame, (t) => t.includes('Running (2)'), 'the help closed')
  })

  it('Tab shows queued tasks, then recently completed ones, then the failures again', async () => {
    const QUEUED = 'c0ffee00-0000-4000-8000-000000000004'
    const DONE = 'd0d0d0d0-0000-4000-8000-000000000005'
    const DELAYED = 'c0ffee01-0000-4000-8000-000000000006'
    const { source, calls } = scripted((o) => {
      const s = busySnapshot()
      if (o.list === 'queued')
        return {
          ...s,
          listed: {
            status: 'queued',
            tasks: [
              { id: QUEUED, task: 'jobs#later', modified: AT, agoMs: 65_000, line: '' },
              { id: DELAYED, task: 'jobs#nightly', modified: AT, agoMs: 167_000, delayMs: 7_033_000, line: '' },
            ],
          },
        }
      if (o.list === 'completed')
        return {
          ...s,
          listed: {
            status: 'completed',
            tasks: [{ id: DONE, task: 'jobs#count', modified: AT, agoMs: 5_000, line: 'all done' }],
          },
        }
      return s
    })
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('Recent failures'), 'the failures')
    await press(stdin, '\t')
    const queued = await waitFor(lastFrame, (t) => t.includes('Queued, longest waiting first'), 'the queued list')
    assert.match(queued, /c0ffee00 jobs#later +waiting 1m05s/)
    assert.match(queued, /c0ffee01 jobs#nightly +runs in 1h57m/, 'a delayed task shows when it runs')
    assert.equal(calls.at(-1)?.list, 'queued')
    await press(stdin, 'jjj') // past the two running tasks to the queued one
    await waitFor(lastFrame, (t) => /▶ c0ffee00/.test(t), 'the queued task selected')
    await press(stdin, 'c')
    await waitFor(lastFrame, (t) => t.includes('Cancel c0ffee00 jobs#later?'), 'a queued task can be cancelled')
    await press(stdin, 'n')
    await press(stdin, '\t')
    await waitFor(
      lastFrame,
      (t) => /Recently completed/.test(t) && /d0d0d0d0 jobs#count +5\.0s ago +all done/.test(t),
      'the completed list',
    )
    await press(stdin, '\t')
    await waitFor(lastFrame, (t) => t.includes('Recent failures'), 'the failures again')
  })

  it('with the pane closed the lists stay together, blank rows only below them', async () => {
    const { lastFrame, stdin } = mount(
      <Top
        source={busySource().source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('line 2'), 'the first frame')
    await press(stdin, '\r')
    const frame = await waitFor(lastFrame, (t) => !t.includes('Output ·'), 'the pane closed')
    const lines = frame.split('\n')
    const evil = lines.findIndex((l) => l.includes('jobs#evil'))
    assert.match(lines[evil + 1]!, /── Recent failures/, `the failures right under the running tasks:\n${frame}`)
    assertFits(frame, 80, 24)
  })

  it('with a progress bar, g scrolls to the very first line of the output', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `row ${i}`).join('\n')
    const { source } = scripted((o) => ({
      ...busySnapshot(),
      pane: { ...paneFor(o.selectedId ?? ID1, o, many), progress: { current: 1, total: 4, message: 'working' } },
    }))
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(
      lastFrame,
      (t) => t.includes('row 39') && t.includes('25% working'),
      'the bar and the end of the output',
    )
    await press(stdin, 'g')
    await waitFor(lastFrame, (t) => /^row 0$/m.test(t) && !t.includes('row 39'), 'the first line')
  })

  it('a filter that hides the selected task moves the selection (and the pane) to one that matches', async () => {
    const { source } = scripted((o) => {
      const s = busySnapshot()
      const running = o.filter ? s.running.filter((t) => t.task.includes(o.filter!)) : s.running
      const id = o.selectedId ?? running[0]?.id ?? null
      return {
        ...s,
        running,
        listed: { status: 'failed', tasks: o.filter ? [] : s.listed.tasks },
        pane:
          id === null
            ? null
            : { ...paneFor(id, o, `output of ${id.slice(0, 8)}\n`), task: id === ID2 ? 'jobs#evil' : 'jobs#count' },
      }
    })
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('output of 3f2a9c1d'), 'the first task in the pane')
    await press(stdin, '/')
    await press(stdin, 'evil\r')
    const frame = await waitFor(lastFrame, (t) => t.includes('output of 7b3e0f42'), 'the pane on the task that matches')
    assert.match(frame, /▶ 7b3e0f42 jobs#evil/)
    assert.doesNotMatch(frame, /3f2a9c1d/)
  })

  it('q quits: polling stops', async () => {
    const { source, calls } = scripted(emptySnapshot)
    let unwatched = 0
    source.watch = async () => async () => void unwatched++
    const { lastFrame, stdin } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        intervalMs={20}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('queued 0'), 'the first frame')
    await press(stdin, 'q')
    await waitFor(
      () => String(unwatched),
      (t) => t === '1',
      'the app to stop watching the database',
    )
    const n = calls.length
    // Time for several polls, measured by another Top polling at the same interval (no sleep).
    const other = scripted(emptySnapshot)
    mount(
      <Top
        source={other.source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        intervalMs={20}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(
      () => String(other.calls.length),
      (t) => Number(t) >= 5,
      'five polls of the other Top',
    )
    assert.equal(calls.length, n, 'no snapshot after quitting')
  })

  it('shows a database error on the last line and keeps polling', async () => {
    let fail = true
    const { source } = scripted(() => {
      if (fail) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
      return emptySnapshot()
    })
    const { lastFrame } = mount(
      <Top
        source={source}
        displayUrl="sqlite:sq.db"
        taskTimeout={3600}
        intervalMs={20}
        color={false}
        size={{ columns: 80, rows: 24 }}
      />,
    )
    await waitFor(lastFrame, (t) => t.includes('database: database error: connect ECONNREFUSED'), 'the error')
    fail = false
    await waitFor(lastFrame, (t) => t.includes('queued 0') && t.includes('q quit'), 'recovery')
  })
})

describe('sq top (layout and colour)', () => {
  it('shares 24 rows between running tasks, the pane and the lower list', () => {
    assert.deepEqual(computeLayout({ rows: 24, running: 20, listed: 20, paneOpen: true }), {
      bodyRows: 19,
      runningRows: 4,
      listRows: 3,
      paneRows: 8,
    })
    assert.deepEqual(computeLayout({ rows: 24, running: 0, listed: 0, paneOpen: true }), {
      bodyRows: 19,
      runningRows: 1,
      listRows: 1,
      paneRows: 13,
    })
    const closed = computeLayout({ rows: 24, running: 30, listed: 2, paneOpen: false })
    assert.equal(closed.paneRows, 0)
    assert.equal(closed.runningRows + closed.listRows, 16)
    assert.deepEqual(
      computeLayout({ rows: 24, running: 2, listed: 1, paneOpen: false }),
      { bodyRows: 19, runningRows: 2, listRows: 1, paneRows: 0 },
      'a closed pane leaves no blank rows between the lists',
    )
  })

  it('turns every colour off with NO_COLOR', () => {
    assert.deepEqual(theme(false), {})

    assert.equal(theme(true).failed, 'red')
  })
})
