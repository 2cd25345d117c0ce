import assert from 'node:assert/strict'
// biome-ignore lint/correctness/noUnusedImports: the tests' loader compiles JSX to React.createElement
import React from 'react'
import { render } from 'ink-testing-library'
import { snapshot, type Snapshot } from '../../src/monitor.js'
import { pauseQueue } from '../../src/storage/pause-repository.js'
import { Header } from '../../ui/top/chrome.js'
import { theme } from '../../ui/top/theme.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'

const snap = (paused: string[]): Snapshot => ({
  at: '2026-11-29T08:15:00.000Z',
  counts: { queued: 3, progress: 0, completed: 0, failed: 0, cancelled: 0 },
  total: 3,
  throughput: { completed: 0, failed: 0, windowSeconds: 60 },
  workers: [],
  paused,
  running: [],
  listed: { status: 'failed', tasks: [] },
  pane: null,
  tookMs: 1,
})

describe('sq top: paused queues in the header', () => {
  it('names the paused queues after the counts, and says nothing when none is', () => {
    const paused = render(
      <Header displayUrl="sqlite:sq.db" snapshot={snap(['emails', 'sms'])} width={80} theme={theme(false)} />,
    )
    assert.match(paused.lastFrame() ?? '', /cancelled 0 {2}paused: emails,sms/)
    paused.unmount()
    const none = render(<Header displayUrl="sqlite:sq.db" snapshot={snap([])} width={80} theme={theme(false)} />)
    assert.doesNotMatch(none.lastFrame() ?? '', /paused/)
    none.unmount()
  })
})

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq top snapshot: paused queues (${dialect})`, () => {
    const t = useTestDatabase(dialect)
    it('reads the paused queues', async () => {
      assert.deepEqual((await snapshot(t.d)).paused, [])
      await pauseQueue(t.d, 'emails')
      assert.deepEqual((await snapshot(t.d)).paused, ['emails'])
    })
  })
}
