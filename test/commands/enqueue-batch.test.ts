import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { sq, sqJson, sqOk, UUID, writeTaskModule } from '../helpers/sq.js'
import { openQueue, UsageError, type Queue } from '../../src/index.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `bulk enqueue: --jsonl and enqueueMany (${dialect})`, function () {
    this.timeout(120_000)
    let db: TestDatabase
    let queue: Queue

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      queue = await openQueue({ db: db.url, root: db.dir })
    })
    after(async () => {
      await queue?.close()
      await db?.drop()
    })

    const count = async () => (await queue.list({ limit: 100_000 })).length

    it('enqueues one task per line of a file, in order, printing their ids', async () => {
      const before = await count()
      fs.writeFileSync(path.join(db.dir, 'batch.jsonl'), '{"name":"a"}\n\n{"name":"b","n":[1,2]}\n{"name":"c"}\n')
      const ids = (await sqOk(db, ['enqueue', 'tasks#hello', '--jsonl', 'batch.jsonl', '--priority', '2']))
        .trim()
        .split('\n')
      assert.equal(ids.length, 3)
      for (const id of ids) assert.match(id, UUID)
      const tasks = await Promise.all(ids.map((id) => queue.get(id)))
      assert.deepEqual(
        tasks.map((t) => t.args),
        [{ name: 'a' }, { name: 'b', n: [1, 2] }, { name: 'c' }],
      )
      assert.ok(tasks.every((t) => t.status === 'queued' && t.priority === 2 && t.task === 'tasks#hello'))
      assert.equal(await count(), before + 3)
    })

    it('reads stdin with -, and --key templates make a rerun add nothing', async () => {
      const input = '{"day":"mon"}\n{"day":"tue"}\n{"day":"mon"}\n'
      const first = await sqJson<{ line: number; id: string; created: boolean }[]>(
        db,
        ['enqueue', 'tasks#hello', '--jsonl', '-', '--key', 'report-{day}'],
        { input },
      )
      assert.deepEqual(
        first.map((l) => [l.line, l.created]),
        [
          [1, true],
          [2, true],
          [3, false],
        ],
      )
      assert.equal(first[2]!.id, first[0]!.id, 'a key taken earlier in the batch gives that task')
      assert.equal((await queue.get(first[1]!.id)).key, 'report-tue')
      const before = await count()
      const again = (await sqOk(db, ['enqueue', 'tasks#hello', '--jsonl', '-', '--key', 'report-{day}'], { input }))
        .trim()
        .split('\n')
      assert.deepEqual(
        again,
        first.map((l) => l.id),
      )
      assert.equal(await count(), before)
    })

    it('one bad line refuses the whole batch with its line number, exit 2, nothing written', async () => {
      const before = await count()
      const cases: [string, RegExp, string[]?][] = [
        ['{"a":1}\n{"a":2}\n[3]\n', /line 3 must be a JSON object/],
        ['{"a":1}\n{oops\n', /line 2 is not valid JSON/],
        ['{"a":1}\n{"b":2}\n', /line 2 has no "a", which --key names/, ['--key', 'k-{a}']],
        [`{"a":1}\n{"big":"${'x'.repeat(300)}"}\n`, /line 2: task args are \d+ bytes/],
      ]
      for (const [input, message, extra] of cases) {
        const r = await sq(db, ['enqueue', 'tasks#hello', '--jsonl', '-', ...(extra ?? [])], {
          input,
          env: { SQ_MAX_ARGS_SIZE: '200' },
        })
        assert.equal(r.code, 2, r.stderr)
        assert.match(r.stderr, /^sq: --jsonl stdin [^\n]+\n$/)
        assert.match(r.stderr, message)
        assert.equal(r.stdout, '')
      }
      const missing = await sq(db, ['enqueue', 'nope#x', '--jsonl', '-'], { input: '{}\n' })
      assert.equal(missing.code, 2)
      assert.match(missing.stderr, /^sq: --jsonl stdin line 1: /)
      assert.equal(await count(), before)
    })

    it('enqueueMany inserts in chunks, all or nothing on validation, keys as enqueue', async () => {
      const before = await count()
      const items = Array.from({ length: 2500 }, (_, i) => ({
        task: 'tasks#hello',
        args: { i },
        key: i % 1000 === 7 ? 'same' : null,
      }))
      const results = await queue.enqueueMany(items, { chunkSize: 1000 })
      assert.equal(results.length, 2500)
      assert.equal(results.filter((r) => r.created).length, 2498)
      assert.equal(results[1007]!.id, results[7]!.id)
      assert.deepEqual((await queue.get(results[2499]!.id)).args, { i: 2499 })
      assert.equal(await count(), before + 2498)
      await assert.rejects(
        queue.enqueueMany([{ task: 'tasks#hello' }, { task: 'tasks#hello', args: [1] }]),
        (e: Error) => e instanceof TypeError && /^tasks\[1\]: /.test(e.message),
      )
      await assert.rejects(
        queue.enqueueMany([{ task: 'tasks#hello' }, { task: 'tasks#hello', priority: 1.5 }]),
        UsageError,
      )
      assert.equal(await count(), before + 2498)
    })

    // On PostgreSQL the first chunk is written while the rest are checked: it must roll back.
    it('enqueueMany refuses a bad item of a later chunk with nothing written, with keys or without', async () => {
      const before = await count()
      for (const key of [null, 'k']) {
        const items: Array<{ task: string; args: unknown; key: string | null }> = Array.from(
          { length: 350 },
          (_, i) => ({
            task: 'tasks#hello',
            args: { i },
            key: key && `${key}${i}`,
          }),
        )
        items[300] = { task: 'tasks#hello', args: [300], key: null }
        await assert.rejects(
          queue.enqueueMany(items as never, { chunkSize: 100 }),
          (e: Error) => e instanceof TypeError && /^tasks\[300\]: /.test(e.message),
        )
        assert.equal(await count(), before, `key ${key}`)
      }
      const done = await queue.enqueueMany(
        Array.from({ length: 250 }, (_, i) => ({ task: 'tasks#hello', args: { i } })),
        { chunkSize: 100 },
      )
      assert.equal(await count(), before + 250)
      assert.deepEqual((await queue.get(done[249]!.id)).args, { i: 249 })
      assert.deepEqual((await queue.get(done[0]!.id)).args, { i: 0 })
    })
  })
}
