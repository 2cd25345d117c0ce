import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { BackendName } from '../../src/storage/backend.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { maxOverlap } from '../helpers/overlap.js'
import { workerSuite, type SqProcess } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

const TASK_COUNT = 1000
/** Worker processes × concurrency per dialect. */
const SHAPE: Record<BackendName, { workers: number; concurrency: number }> = {
  postgres: { workers: 3, concurrency: 4 },
  sqlite: { workers: 3, concurrency: 4 },
}

/** Many workers on one database: every task runs exactly once (SPEC §5 claims, §7). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker at scale (${dialect})`, function () {
    this.timeout(180_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it(`runs ${TASK_COUNT} tasks with ${SHAPE[dialect].workers} workers × ${SHAPE[dialect].concurrency}, each exactly once`, async () => {
      const { workers, concurrency } = SHAPE[dialect]
      const file = s.file('ran.txt')
      const ids: string[] = []
      for (let i = 0; i < TASK_COUNT; i++) ids.push(await s.enqueue('tasks#note', { file, token: `token-${i}` }))

      const started = Date.now()
      const procs: SqProcess[] = []
      for (let i = 0; i < workers; i++) procs.push(s.worker(['--burst', '--concurrency', String(concurrency)]))
      await Promise.all(procs.map((p) => p.exit))
      const seconds = (Date.now() - started) / 1000
      for (const p of procs) {
        assert.deepEqual(p.result, { code: 0, signal: null }, p.output)
        assert.doesNotMatch(p.output, /database is locked|SQLITE_BUSY/i)
        assert.doesNotMatch(p.output, /worker error|could not record/)
      }

      const rows = await s.queue.backend.db
        .selectFrom('sq_tasks')
        .select(['id', 'status', 'attempts', 'output', 'worker'])
        .where('queue', '=', s.q)
        .execute()
      assert.equal(rows.length, TASK_COUNT)
      const notDone = rows.filter((r) => r.status !== 'completed' || r.attempts !== 1)
      const about = (id: string) =>
        procs.flatMap((p) =>
          p.output
            .split('\n')
            .filter((l) => l.includes(id.slice(0, 8)))
            .map((l) => `worker ${p.pid}: ${l}`),
        )
      assert.deepEqual(
        notDone,
        [],
        `every task completed on its first attempt; the workers said:\n${notDone.flatMap((r) => about(r.id)).join('\n')}`,
      )

      const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
      const counts = new Map<string, number>()
      for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1)
      const twice = [...counts].filter(([, n]) => n > 1)
      assert.deepEqual(twice, [], 'no task ran twice')
      assert.equal(lines.length, TASK_COUNT)
      for (let i = 0; i < TASK_COUNT; i++) assert.equal(counts.get(`token-${i}`), 1, `token-${i} ran once`)
      assert.deepEqual(rows.map((r) => r.output).sort(), [...counts.keys()].sort(), 'each task returned its own token')

      const perWorker = new Map<string, number>()
      for (const r of rows) perWorker.set(r.worker!, (perWorker.get(r.worker!) ?? 0) + 1)
      // Never more runs at once than the workers have slots (started/finished: when each really ran).
      const tasks = await Promise.all(ids.map((id) => s.get(id)))
      for (const name of new Set(tasks.map((t) => t.worker))) {
        const overlap = maxOverlap(tasks.filter((t) => t.worker === name))
        assert.ok(overlap <= concurrency, `worker ${name}: at most ${concurrency} runs at once, saw ${overlap}`)
      }
      process.stdout.write(
        `      ${TASK_COUNT} tasks in ${seconds.toFixed(1)} s; per worker: ${[...perWorker.values()].join(', ')}\n`,
      )
    })
  })
}
