/**
 * What the dashboard and /metrics cost with a big table: fills N tasks (mixed statuses over a week,
 * a few hundred within the last hour) on SQLite and PostgreSQL, serves them in-process with
 * createStatusServer, and times each request the page makes (median of --runs).
 *
 *   node --import tsx bench/dashboard.ts [--rows 100000] [--runs 15] [--only sqlite|postgres]
 */
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { createStatusServer } from '../src/http/status-server.js'
import { openQueue } from '../src/index.js'
import type { BackendName } from '../src/storage/backend.js'
import type { Status } from '../src/types.js'
import { createTestDatabase } from '../test/helpers/db.js'

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const ROWS = Number(arg('rows', '100000'))
const RUNS = Number(arg('runs', '15'))
const ONLY = arg('only', '')
const STATUSES: Status[] = ['completed', 'completed', 'completed', 'failed', 'cancelled', 'queued']

async function bench(backend: BackendName): Promise<void> {
  const db = await createTestDatabase(backend)
  const queue = await openQueue({ db: db.url, root: db.dir })
  try {
    const now = Date.now()
    for (let start = 0; start < ROWS; start += 500) {
      const rows = []
      for (let i = start; i < Math.min(start + 500, ROWS); i++) {
        const status = STATUSES[i % STATUSES.length]!
        const modified = new Date(now - (i < 600 ? i * 6000 : (i * 6_047) % (7 * 86_400_000))).toISOString()
        const ended = status !== 'queued'
        rows.push({
          id: randomUUID(),
          task: `app/jobs/${['email', 'report', 'resize', 'sync'][i % 4]}#run`,
          args: JSON.stringify({ n: i }),
          status,
          output: status === 'completed' ? `processed item ${i}\n` : null,
          error: status === 'failed' ? `Error: upstream 503 for item ${i}` : null,
          created: modified,
          modified,
          started: ended ? modified : null,
          finished: ended ? modified : null,
          run_at: modified,
          attempts: ended ? 1 : 0,
          max_attempts: 1,
          priority: 0,
          queue: ['default', 'mail', 'reports'][i % 3]!,
          duration_ms: ended && status !== 'cancelled' ? (i * 37) % 20_000 : null,
        })
      }
      await queue.backend.db.insertInto('sq_tasks').values(rows).execute()
    }
    const server = createStatusServer(queue, { host: '127.0.0.1' })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const paths = [
      '/api/overview',
      '/api/throughput',
      '/api/tasks?status=failed&page=3',
      '/api/tasks?status=completed&q=item%2012345',
      '/metrics',
    ]
    console.log(`${backend}, ${ROWS} tasks (median of ${RUNS}):`)
    for (const path of paths) {
      const times: number[] = []
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now()
        const res = await fetch(base + path)
        await res.text()
        if (!res.ok) throw new Error(`${path}: ${res.status}`)
        times.push(performance.now() - t)
      }
      times.sort((a, b) => a - b)
      console.log(`  GET ${path.padEnd(44)} ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms`)
    }
    server.close()
  } finally {
    await queue.close()
    await db.drop()
  }
}

for (const backend of ['sqlite', 'postgres'] as BackendName[]) if (!ONLY || ONLY === backend) await bench(backend)
