import assert from 'node:assert/strict'
import fs from 'node:fs'
import { WalWatcher } from '../../src/storage/backends/wal-watcher.js'
import { createTestDatabase, openTestDatabase, type TestDatabase } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'
import { sleep, waitFor } from '../helpers/wait.js'

/**
 * SQLite's stand-in for LISTEN: a watch of the `-wal` file that every commit writes. The worker's own
 * wake-up is tested end to end in test/worker/wakeup.test.ts; this is the watch itself, through the
 * file's life: not there yet, written, removed when the last connection closes, made again.
 */
describe('the -wal watch (sqlite)', () => {
  let db: TestDatabase
  let watcher: WalWatcher | undefined
  let heard = 0

  beforeEach(async () => {
    db = await createTestDatabase('sqlite')
    heard = 0
  })
  afterEach(async () => {
    watcher?.close()
    await db.drop()
  })

  it('hears a commit by another connection, and nothing once closed', async () => {
    const writer = await openTestDatabase(db)
    watcher = new WalWatcher(`${db.url}-wal`)
    const stop = watcher.listen(() => heard++)
    await sleep(100)
    heard = 0
    await insert(writer, { task: 't#x' })
    await waitFor(() => heard > 0, 3000, 'the watch to hear the commit')
    stop()
    await sleep(100)
    heard = 0
    await insert(writer, { task: 't#x' })
    await sleep(300)
    assert.equal(heard, 0, 'a closed watch calls nobody')
    await writer.close()
  })

  it('waits for a -wal file that is not there yet, and watches the new one after it was removed', async () => {
    watcher = new WalWatcher(`${db.url}-wal`)
    watcher.listen(() => heard++)
    assert.equal(fs.existsSync(`${db.url}-wal`), false)
    // The file appears with the first connection; the watch takes it up on its next try (0.5 s).
    let writer = await openTestDatabase(db)
    await sleep(1000)
    heard = 0
    await insert(writer, { task: 't#x' })
    await waitFor(() => heard > 0, 3000, 'the watch to hear the first commit')
    // The last connection's close removes the -wal file; the next one makes another.
    await writer.close()
    assert.equal(fs.existsSync(`${db.url}-wal`), false, 'closing removed the -wal file')
    writer = await openTestDatabase(db)
    await sleep(1000)
    heard = 0
    await insert(writer, { task: 't#x' })
    await waitFor(() => heard > 0, 3000, 'the watch to hear a commit to the new -wal file')
    await writer.close()
  })
})
