import assert from 'node:assert/strict'
import fs from 'node:fs'
import { describeOn } from '../helpers/db.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/**
 * A SQLite file deleted (or replaced) under a running worker: its writes would go to an unlinked inode
 * while `sq list` made a new, empty file. The worker notices at its next heartbeat, says so, and exits 1.
 */
describeOn('sqlite', 'worker whose SQLite file is deleted (sqlite)', function () {
  this.timeout(30_000)
  const s = workerSuite('sqlite', { 'tasks.mjs': TASKS })

  it('says so and exits 1', async () => {
    const worker = s.worker([], { SQ_HEARTBEAT_TIMEOUT: '3' })
    await worker.waitForOutput(/started: concurrency/)
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(s.db.url + suffix, { force: true })
    const exit = await worker.ended(10_000)
    assert.equal(exit.code, 1, worker.output)
    assert.match(worker.output, /database file .*sq\.db was deleted while in use/)
  })
})
