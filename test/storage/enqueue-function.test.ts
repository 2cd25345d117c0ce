import assert from 'node:assert/strict'
import pg from 'pg'
import { createTestDatabase, describeOn, type TestDatabase } from '../helpers/db.js'
import { sq, UUID, writeTaskModule } from '../helpers/sq.js'
import { assertAnnouncedAtCommit } from '../helpers/announced.js'
import { createTask, openQueue, type Queue } from '../../src/index.js'
import { newTaskInsert } from '../../src/storage/task-row.js'

/** Columns that differ between two tasks enqueued alike: their identity and the moment they were written. */
const OWN = new Set(['id', 'key', 'created', 'modified', 'run_at'])

describeOn('postgres', 'sq_enqueue, enqueueing from SQL (postgres)', () => {
  let db: TestDatabase
  let queue: Queue
  let client: pg.Client
  const enqueue = async (call: string, values: unknown[] = []) =>
    (await client.query<{ id: string }>(`select sq_enqueue(${call}) as id`, values)).rows[0]!.id
  const row = async (id: string) =>
    (await client.query<Record<string, unknown>>('select * from sq_tasks where id = $1', [id])).rows[0]!

  before(async () => {
    db = await createTestDatabase('postgres')
    writeTaskModule(db.dir)
    queue = await openQueue({ db: db.url, root: db.dir })
    client = new pg.Client({ connectionString: db.url })
    await client.connect()
  })
  after(async () => {
    await client?.end()
    await queue?.close()
    await db?.drop()
  })

  it('writes the row createTask writes, column for column', async () => {
    const options = { queue: 'mail', priority: 3, maxAttempts: 2 }
    const viaLibrary = await createTask(
      { task: 'tasks#hello', args: { name: 'a', n: [1] }, key: 'lib', ...options },
      queue,
    )
    const viaSql = await enqueue(
      `'tasks#hello', '{"name": "a", "n": [1]}', queue => 'mail', priority => 3, max_attempts => 2, key => 'sql'`,
    )
    assert.match(viaSql, UUID)
    const [a, b] = [await row(viaLibrary), await row(viaSql)]
    assert.deepEqual(Object.keys(b), Object.keys(a))
    for (const column of Object.keys(a)) {
      if (OWN.has(column)) continue
      const [x, y] =
        column === 'args' ? [JSON.parse(String(a[column])), JSON.parse(String(b[column]))] : [a[column], b[column]]
      assert.deepEqual(y, x, `column ${column}`)
    }
    // Every column an insert writes is written: none left to a default the library does not rely on.
    for (const column of newTaskInsert('', () => '', '').columns.match(/\w+/g)!) {
      assert.notEqual(b[column], null, `column ${column}`)
    }
    assert.equal(b.key, 'sql')
    assert.deepEqual(await queue.get(viaSql).then((t) => [t.status, t.args, t.queue]), [
      'queued',
      { name: 'a', n: [1] },
      'mail',
    ])
  })

  it('takes run_at or a delay, and the defaults of createTask', async () => {
    const later = await enqueue(`'tasks#hello', delay => interval '1 hour'`)
    const at = await enqueue(`'tasks#hello', run_at => '2100-01-01T00:00:00Z'`)
    const plain = await enqueue(`'tasks'`)
    const [l, t, p] = [await queue.get(later), await queue.get(at), await queue.get(plain)]
    assert.ok(Date.parse(l.run_at) - Date.parse(l.created) >= 3_599_000)
    assert.equal(t.run_at, '2100-01-01T00:00:00.000Z')
    assert.deepEqual([p.task, p.args, p.queue, p.priority, p.max_attempts], ['tasks', {}, 'default', 0, 1])
  })

  it('refuses what the library refuses, with its words, and writes nothing', async () => {
    const before = (await queue.list({ limit: 1000 })).length
    const refused: Array<[string, RegExp]> = [
      [`'#x'`, /module part before # is empty/],
      [`'a b#x'`, /contains whitespace/],
      [`'tasks#1x'`, /is not an export name/],
      [`'../x#y'`, /leaves the tasks root/],
      [`'/etc/x#y'`, /leaves the tasks root/],
      [`'tasks#hello', '[1, 2]'`, /must be a JSON object, got array/],
      [`'tasks#hello', 'null'`, /must be a JSON object, got null/],
      [`'tasks#hello', max_attempts => 0`, /max attempts must be a whole number/],
      [`'tasks#hello', queue => 'a b'`, /queue name "a b" may hold only/],
      [`'tasks#hello', key => ''`, /key must not be empty/],
    ]
    for (const [call, message] of refused) await assert.rejects(enqueue(call), message, call)
    await client.query('BEGIN')
    await client.query(`SET LOCAL sq.max_args_size = '20'`)
    await assert.rejects(enqueue(`'tasks#hello', '{"text": "more than twenty bytes"}'`), /over the limit of 20/)
    await client.query('ROLLBACK')
    assert.equal((await queue.list({ limit: 1000 })).length, before)
  })

  it('gives the id of the task holding a key, and writes nothing', async () => {
    const held = await createTask({ task: 'tasks#hello', key: 'daily' }, queue)
    assert.equal(await enqueue(`'tasks#hello', key => 'daily'`), held)
    assert.equal((await queue.list({ limit: 1000, search: 'daily' })).length, 1)
  })

  it('announces the task at the commit of the caller’s transaction', async () => {
    await assertAnnouncedAtCommit(db.url, client, 'sqlq', () => enqueue(`'tasks#hello', queue => 'sqlq'`))
  })

  it('enqueues from a trigger on an app table: a rolled-back signup leaves no task, a committed one runs', async () => {
    await client.query(`create table users (id serial primary key, email text not null)`)
    await client.query(`create function welcome() returns trigger language plpgsql as $$
      begin
        perform sq_enqueue('tasks#hello', jsonb_build_object('name', new.email), queue => 'welcome');
        return new;
      end $$`)
    await client.query(`create trigger users_welcome after insert on users for each row execute function welcome()`)
    const inWelcome = async () => (await queue.list({ limit: 100 })).filter((t) => t.queue === 'welcome')

    await client.query('BEGIN')
    await client.query(`insert into users (email) values ('lost@example.com')`)
    await client.query('ROLLBACK')
    assert.deepEqual(await inWelcome(), [])

    await client.query(`insert into users (email) values ('kept@example.com')`)
    const [task] = await inWelcome()
    assert.deepEqual(task?.args, { name: 'kept@example.com' })
    const worker = await sq(db, ['worker', '--burst', '--queue', 'welcome'])
    assert.equal(worker.code, 0, worker.stderr)
    const done = await queue.get(task!.id)
    assert.equal(done.status, 'completed')
    assert.equal(done.output, 'hello kept@example.com')
  })
})
