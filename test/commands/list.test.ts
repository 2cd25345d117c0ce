import assert from 'node:assert/strict'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { age, assertOneLineError, insert, setStatus, sq, sqJson, sqOk, writeTaskModule } from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'
import type { Task } from '../../src/types.js'

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq list (${dialect})`, () => {
    const t = useTestDatabase(dialect, {
      setup: (dir) => {
        writeTaskModule(dir)
        writeTaskModule(dir, 'reports/daily.ts', 'export function build() { return "ok" }\n')
      },
    })
    let db: TestDatabase
    let d: Backend
    // Five tasks, oldest modified first: done (3h), broken (2h), waiting (1h), other (30m), running (now).
    const ids: Record<'done' | 'broken' | 'waiting' | 'other' | 'running', string> = {} as never

    before(async () => {
      ;({ db, d } = t)
      const [done, broken, waiting, other, running] = await Promise.all([
        insert(d, { task: 'tasks#hello' }),
        insert(d, { task: 'tasks#fail' }),
        insert(d, { task: 'tasks#hello' }),
        insert(d, { task: 'reports/daily#build' }),
        insert(d, { task: 'tasks#hello' }),
      ])
      Object.assign(ids, { done, broken, waiting, other, running })
      await setStatus(d, done!, 'completed', { output: 'report READY for 50%_off\n', log: 'log text' })
      await setStatus(d, broken!, 'failed', { error: 'Error: boom\n    at fail (tasks.ts:3)' })
      await setStatus(d, other!, 'completed', { output: 'ok' })
      await setStatus(d, running!, 'progress', { worker: 'host:1' })
      await age(d, done!, 3 * 3600)
      await age(d, broken!, 2 * 3600)
      await age(d, waiting!, 3600)
      await age(d, other!, 1800)
      // `running` was created first but modified last: listing is by modified, not created.
      await d.db
        .updateTable('sq_tasks')
        .set({ created: new Date(Date.now() - 5 * 3600_000).toISOString() })
        .where('id', '=', running!)
        .execute()
    })

    const listIds = async (...args: string[]) => (await sqJson<Task[]>(db, ['list', ...args])).map((t) => t.id)

    it('lists newest first by modified, as JSON records', async () => {
      const tasks = await sqJson<Task[]>(db, ['list'])
      assert.deepEqual(
        tasks.map((t) => t.id),
        [ids.running, ids.other, ids.waiting, ids.broken, ids.done],
      )
      const done = tasks.find((t) => t.id === ids.done)!
      assert.equal(done.status, 'completed')
      assert.equal(done.output, 'report READY for 50%_off\n')
      assert.deepEqual(done.args, {})
    })

    it('filters by status, one or a comma-separated list', async () => {
      const [failed, ended, running] = await Promise.all([
        listIds('--status', 'failed'),
        listIds('--status', 'completed, failed'),
        listIds('--status', 'progress'),
      ])
      assert.deepEqual(failed, [ids.broken])
      assert.deepEqual(ended, [ids.other, ids.broken, ids.done])
      assert.deepEqual(running, [ids.running])
    })

    it('filters by task pattern, by search over id, task and output, by --since and --limit', async () => {
      const [glob, substring, byOutput, byOutputLiteral, byId, byTask, since, sinceIso, limited] = await Promise.all([
        listIds('--task', 'reports/*'),
        listIds('--task', 'fail'),
        listIds('--search', 'ready'),
        listIds('--search', '50%_'),
        listIds('--search', ids.waiting.slice(0, 13)),
        listIds('--search', 'DAILY'),
        listIds('--since', '90m'),
        listIds('--since', new Date(Date.now() - 150 * 60_000).toISOString()),
        listIds('--limit', '2'),
      ])
      assert.deepEqual(glob, [ids.other])
      assert.deepEqual(substring, [ids.broken])
      assert.deepEqual(byOutput, [ids.done])
      assert.deepEqual(byOutputLiteral, [ids.done], '% and _ in a search are literal')
      assert.deepEqual(byId, [ids.waiting])
      assert.deepEqual(byTask, [ids.other])
      assert.deepEqual(since, [ids.running, ids.other, ids.waiting])
      assert.deepEqual(sinceIso, [ids.running, ids.other, ids.waiting, ids.broken])
      assert.deepEqual(limited, [ids.running, ids.other])
    })

    it('-q prints ids only, one per line; the default is a readable table', async () => {
      const [quiet, table, empty, quietNone] = await Promise.all([
        sqOk(db, ['list', '-q', '--status', 'completed']),
        sqOk(db, ['list']),
        sqOk(db, ['list', '--status', 'cancelled']),
        sqOk(db, ['list', '-q', '--status', 'cancelled']),
      ])
      assert.equal(quiet, `${ids.other}\n${ids.done}\n`)
      assert.equal(quietNone, '', 'no line at all when none match: `sq list -q | wc -l` counts 0')
      const lines = table.trimEnd().split('\n')
      assert.match(lines[0]!, /ID\s+STATUS\s+TASK\s+MODIFIED/)
      assert.equal(lines.length, 6)
      assert.match(lines[1]!, new RegExp(`^${ids.running.slice(0, 8)}\\s+In progress\\s+tasks#hello`))
      assert.match(table, new RegExp(`${ids.broken.slice(0, 8)}\\s+Failed\\s+tasks#fail\\s+.*Error: boom`))
      assert.match(
        table,
        new RegExp(`${ids.done.slice(0, 8)}\\s+Completed\\s+tasks#hello\\s+3h00m ago\\s+report READY`),
      )
      assert.match(empty, /No tasks/)
    })

    it('refuses bad filters with exit 2 and one line', async () => {
      const results = await Promise.all([
        sq(db, ['list', '--status', 'done']),
        sq(db, ['list', '--status', 'failed,nope']),
        sq(db, ['list', '--since', 'yesterdayish']),
        sq(db, ['list', '--limit', '0']),
        sq(db, ['list', '--limit', 'many']),
        sq(db, ['list', '--frobnicate']),
        sq(db, ['list', '--since', '1']),
      ])
      assertOneLineError(results[0]!, 2, /unknown status "done"/)
      assertOneLineError(results[1]!, 2, /unknown status "nope"/)
      assertOneLineError(results[2]!, 2, /--since/)
      assertOneLineError(results[6]!, 2, /--since must be a duration like .*got "1" \(a number needs a unit\)/)
      for (const r of results.slice(3)) assertOneLineError(r, 2)
    })
  })
}
