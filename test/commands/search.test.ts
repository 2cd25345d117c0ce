import assert from 'node:assert/strict'
import { slotKey } from '../../src/storage/schedule-repository.js'
import { DIALECTS } from '../helpers/db.js'
import { startServe } from '../helpers/serve.js'
import { insert, setStatus } from '../helpers/sq.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * One search, one meaning: `sq list --search` and the dashboard's search find the same tasks, by id,
 * task, key, args, error and output (storage/search.ts).
 */
for (const dialect of DIALECTS) {
  describe(`search, in sq list and the dashboard (${dialect})`, () => {
    const s = workerSuite(dialect)

    it('finds a task by its id, task, key, args, error or output, the same in both', async () => {
      const d = s.queue.backend
      const ids = {
        byArgs: await insert(d, { queue: s.q, argsJson: JSON.stringify({ invoice: 'INV-4711' }) }),
        byKey: await insert(d, { queue: s.q, key: 'nightly-export' }),
        bySchedule: await insert(d, { queue: s.q, key: slotKey('sync', Date.UTC(2026, 10, 29, 10, 5)) }),
        byError: await insert(d, { queue: s.q }),
        byOutput: await insert(d, { queue: s.q, task: 'reports/daily#build' }),
      }
      await setStatus(d, ids.byError, 'failed', { error: 'Error: SMTP connection refused\n    at send' })
      await setStatus(d, ids.byOutput, 'completed', { output: 'wrote 12 rows\n' })
      const cases: [string, string[]][] = [
        ['inv-4711', [ids.byArgs]],
        ['nightly-EXPORT', [ids.byKey]],
        // The README's example: a schedule's tasks carry `schedule:NAME@SLOT` as their key.
        ['schedule:sync', [ids.bySchedule]],
        ['smtp connection', [ids.byError]],
        ['12 rows', [ids.byOutput]],
        ['DAILY#', [ids.byOutput]],
        [ids.byKey.slice(0, 13), [ids.byKey]],
        ['no such text', []],
      ]
      const served = await startServe(s)
      try {
        for (const [text, expected] of cases) {
          const listed = s.sq(['list', '--search', text, '-q'])
          assert.deepEqual(await listed.ended(), { code: 0, signal: null }, listed.output)
          const cli = listed.stdout.split('\n').filter(Boolean)
          const res = await fetch(`${served.base}/api/tasks?queue=${s.q}&q=${encodeURIComponent(text)}`)
          const api = ((await res.json()) as { tasks: { id: string }[] }).tasks.map((t) => t.id)
          assert.deepEqual(new Set(cli), new Set(expected), `sq list --search ${text}`)
          assert.deepEqual(new Set(api), new Set(expected), `the dashboard's search for ${text}`)
        }
      } finally {
        await served.stop()
      }
    })
  })
}
