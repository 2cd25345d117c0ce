import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { openQueue } from '../../src/index.js'
import { freePort } from '../../scripts/chaos/cluster.js'
import { createTestDatabase, describeOn, type TestDatabase } from '../helpers/db.js'
import { killLeftovers, SqProcess } from '../helpers/worker.js'
import { waitFor } from '../helpers/wait.js'

/**
 * A worker started while PostgreSQL is unreachable (a failover, a restart) waits for it with backoff, a
 * line per try, and then works; what waiting cannot fix — no such database — exits 1 at once. The
 * server "comes up" as a TCP forwarder to the real one, opened on a port nothing listened on.
 */
describeOn('postgres', 'worker started while PostgreSQL is unreachable (postgres)', function () {
  this.timeout(60_000)
  let db: TestDatabase
  let forwarder: net.Server | undefined
  const sockets = new Set<net.Socket>()

  before(async () => {
    db = await createTestDatabase('postgres')
    fs.writeFileSync(path.join(db.dir, 'tasks.mjs'), `export function ok() { return 'ran' }\n`)
  })
  after(async () => {
    await killLeftovers()
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => (forwarder ? forwarder.close(resolve) : resolve(undefined)))
    await db?.drop()
  })

  /** A worker pointed at a port nothing listens on, once it has tried twice. */
  async function workerWaitingOnClosedPort() {
    const port = await freePort()
    const target = new URL(db.url)
    const url = db.url.replace(`${target.hostname}:${target.port || 5432}`, `127.0.0.1:${port}`)
    const worker = new SqProcess(['worker', '--db', url], { cwd: db.dir })
    await worker.waitForOutput(/database unreachable \(try 2\)/, 15_000)
    return { port, target, worker }
  }

  it('waits with backoff, a line per try, then runs tasks once the server answers', async () => {
    const { port, target, worker } = await workerWaitingOnClosedPort()
    assert.equal(worker.result, undefined, `the worker exited while waiting:\n${worker.output}`)
    assert.doesNotMatch(worker.output, /started: concurrency/)

    forwarder = net.createServer((client) => {
      const server = net.connect(Number(target.port || 5432), target.hostname)
      for (const s of [client, server]) {
        sockets.add(s)
        s.on('error', () => {})
      }
      client.pipe(server).pipe(client)
    })
    await new Promise<void>((resolve) => forwarder!.listen(port, '127.0.0.1', resolve))
    await worker.waitForOutput(/started: concurrency/, 20_000)

    const queue = await openQueue({ db: db.url, root: db.dir })
    try {
      const { id } = await queue.enqueue({ task: 'tasks#ok' })
      const done = await waitFor(
        async () => (await queue.get(id)).output === 'ran' || undefined,
        15_000,
        'the task to run',
      )
      assert.ok(done)
    } finally {
      await queue.close()
    }
    worker.signal('SIGTERM')
    assert.equal((await worker.ended()).code, 0, worker.output)
  })

  it('exits 0 at once on SIGTERM while it waits (a service manager stopping it)', async () => {
    const { worker } = await workerWaitingOnClosedPort()
    worker.signal('SIGTERM')
    const exit = await worker.ended(5_000)
    assert.deepEqual([exit.code, exit.signal], [0, null], worker.output)
    assert.match(worker.output, /SIGTERM: stopping before the first claim/)
  })

  it('exits 1 at once, with one line, when the database does not exist', async () => {
    const url = db.url.replace(/\/[^/]*$/, '/sq_no_such_database_here')
    const worker = new SqProcess(['worker', '--db', url], { cwd: db.dir })
    const exit = await worker.ended(15_000)
    assert.equal(exit.code, 1, worker.output)
    assert.doesNotMatch(worker.output, /database unreachable/)
    assert.match(worker.stderr, /sq_no_such_database_here/)
  })
})
