import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { openQueue } from '../../src/index.js'
import { claimTasks } from '../../src/storage/run-repository.js'
import { createTestDatabase, type TestDatabase } from '../helpers/db.js'

// better-sqlite3 is synchronous: two connections to one file in one process would deadlock on the
// write lock. A second open shares the first one's connection.
describe('SQLite: two handles on one file in one process', function () {
  this.timeout(8000)
  let db: TestDatabase
  before(async () => {
    db = await createTestDatabase('sqlite')
    fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), 'export function x() {}\n')
  })
  after(() => db.drop())

  it('write at once without "database is locked", and one can close while the other goes on', async () => {
    const a = await openQueue({ db: db.url, root: db.dir })
    const b = await openQueue({ db: db.url, root: db.dir })
    const enqueues = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).enqueue({ task: 'tasks#x' }))
    const claim = (q: typeof a) =>
      claimTasks(q.backend, { workerId: 'w', workerName: 'h:1', pid: 1, queues: ['default'], limit: 5 })
    await Promise.all(enqueues)
    const [fromA, fromB] = await Promise.all([claim(a), claim(b)])
    const claimed = [...fromA, ...fromB].map((t) => t.id)
    assert.equal(claimed.length, 10)
    assert.equal(new Set(claimed).size, 10, 'each task claimed once')
    await a.close()
    const all = await b.list({ limit: 100 })
    assert.equal(all.length, 40)
    assert.equal(all.filter((t) => t.status === 'progress').length, 10)
    await b.close()
  })
})
