/**
 * How long one `sq top` refresh takes with a big table: fills 100,000 tasks (mixed statuses, 50 of
 * them running with streamed output, live workers) on SQLite and on PostgreSQL, then times
 * `snapshot()` — the whole read behind one frame — as the UI calls it.
 *
 *   node --import tsx bench/top-refresh.ts [--rows 100000] [--runs 30] [--only sqlite|postgres]
 *
 * PostgreSQL: SQ_TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres); a scratch
 * database is created and dropped.
 */
import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { sql } from 'kysely'
import { Activity } from '../src/activity.js'
import { snapshot, type Snapshot } from '../src/monitor.js'
import type { Backend, BackendName } from '../src/storage/backend.js'
import * as f from '../src/storage/follow-repository.js'
import * as m from '../src/storage/monitor-repository.js'
import { liveWorkers } from '../src/storage/worker-repository.js'
import { ACTIVE_STATUSES, type Status } from '../src/task.js'
import { createTestDatabase, openTestDatabase } from '../test/helpers/db.js'

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const ROWS = Number(arg('rows', '100000'))
const RUNS = Number(arg('runs', '30'))
const ONLY = arg('only', '')
const RUNNING = 50
const CHUNKS_PER_RUN = 200

function statusFor(i: number): Status {
  const r = i % 100
  if (r < 70) return 'completed'
  if (r < 85) return 'failed'
  if (r < 90) return 'cancelled'
  return 'queued'
}

async function fill(d: Backend): Promise<void> {
  const now = Date.now()
  const batch = 500
  for (let start = 0; start < ROWS - RUNNING; start += batch) {
    const rows = []
    for (let i = start; i < Math.min(start + batch, ROWS - RUNNING); i++) {
      const status = statusFor(i)
      // Spread over a week; a few hundred inside the last minute, for the throughput figure.
      const modified = new Date(now - (i < 300 ? i * 150 : (i * 6_047) % (7 * 86_400_000))).toISOString()
      const ended = status !== 'queued'
      rows.push({
        id: randomUUID(),
        task: `app/jobs/${['email', 'report', 'resize', 'sync'][i % 4]}#run`,
        args: JSON.stringify({ n: i }),
        status,
        output: status === 'completed' ? `processed item ${i}\n`.repeat(8) : null,
        error:
          status === 'failed'
            ? `Error: upstream returned 503 for item ${i}\n    at run (app/jobs/sync.ts:12:11)\n    at process (node:internal)`
            : null,
        log: ended ? `debug: item ${i}\n` : null,
        worker: ended ? 'bench-host:1' : null,
        worker_pid: ended ? 1 : null,
        created: modified,
        modified,
        started: ended ? modified : null,
        finished: ended ? modified : null,
        attempts: ended ? 1 : 0,
        max_attempts: 1,
        run_at: modified,
        priority: 0,
        queue: 'default',
      })
    }
    await d.db.insertInto('sq_tasks').values(rows).execute()
  }
  await d.db
    .insertInto('sq_workers')
    .values(
      ['a', 'b', 'c'].map((h, i) => ({
        id: `w-${h}`,
        name: `host-${h}:${100 + i}`,
        host: `host-${h}`,
        pid: 100 + i,
        queues: 'default',
        concurrency: 20,
        running: 17,
        started: d.now(),
        last_heartbeat: d.now(),
      })),
    )
    .execute()
  for (let i = 0; i < RUNNING; i++) {
    const id = randomUUID()
    const started = new Date(now - i * 7_000).toISOString()
    await d.db
      .insertInto('sq_tasks')
      .values({
        id,
        task: 'app/jobs/export#stream',
        args: '{}',
        status: 'progress',
        worker: `host-${'abc'[i % 3]}:${100 + (i % 3)}`,
        worker_pid: 100,
        worker_id: `w-${'abc'[i % 3]}`,
        created: started,
        modified: started,
        started,
        attempts: 1,
        claims: 1,
        max_attempts: 1,
        run_at: started,
        priority: 0,
        queue: 'default',
      })
      .execute()
    const chunks = Array.from({ length: CHUNKS_PER_RUN }, (_, k) => ({
      task_id: id,
      claim: 1,
      stream: (k % 5 === 4 ? 'log' : 'output') as 'output' | 'log',
      data: `row ${k} of export ${i}\n`,
    }))
    await d.db.insertInto('sq_task_chunks').values(chunks).execute()
  }
  // The planner's statistics and PostgreSQL's visibility map (which lets counts read the index alone),
  // as autovacuum keeps them on a live database; SQLite has only the statistics.
  await sql`${sql.raw(d.name === 'postgres' ? 'vacuum analyze' : 'analyze')}`.execute(d.db)
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 3; i++) await fn() // warm-up: connections, statement caches
  const out: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    await fn()
    out.push(performance.now() - t)
  }
  return out.sort((a, b) => a - b)
}

const ms = (xs: number[]) =>
  `median ${xs[Math.floor(xs.length / 2)]!.toFixed(1)} ms, p90 ${xs[Math.floor(xs.length * 0.9)]!.toFixed(1)} ms`

async function bench(name: BackendName): Promise<void> {
  const db = await createTestDatabase(name)
  const d = await openTestDatabase(db)
  try {
    const t0 = performance.now()
    await fill(d)
    const total = (await m.countsBy(d, null)).groups.get('')!
    process.stdout.write(
      `\n${name}: ${Object.values(total).reduce((a, b) => a + b, 0)} tasks (${JSON.stringify(total)}), filled in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
    )

    // One read model across refreshes, as `sq top` keeps it: the ended counts are re-read every 5 s.
    const activity = new Activity(d, { heartbeatTimeout: 30 })
    const first = await snapshot(activity)
    let previous: Snapshot = first
    const follow = await time(async () => {
      previous = await snapshot(activity, { selectedId: first.pane!.id, previous })
    })
    // A pane read from scratch (another task selected), and a filter that matches nothing, each with
    // the ended counts still fresh, as between two re-counts.
    const cold = await time(() =>
      snapshot(activity, { selectedId: first.pane!.id, previous: { ...previous, pane: null } }),
    )
    const filtered = await time(() =>
      snapshot(activity, { filter: 'nomatch*', selectedId: first.listed.tasks[0]!.id, previous }),
    )
    const recount = await time(() => snapshot(d, { selectedId: first.pane!.id, previous }))
    process.stdout.write(`  one refresh, following a running task:            ${ms(follow)}\n`)
    process.stdout.write(`  one refresh, newly selected task (re-read pane):  ${ms(cold)}\n`)
    process.stdout.write(`  one refresh, filter matching nothing:             ${ms(filtered)}\n`)
    process.stdout.write(`  one refresh that re-counts ended tasks (every 5 s): ${ms(recount)}\n`)
    process.stdout.write('  each query alone:\n')
    const pane = first.pane!
    const queries: Array<[string, () => Promise<unknown>]> = [
      ['database now', () => m.databaseNow(d)],
      ['counts, all statuses (GROUP BY)', () => m.countsBy(d, null)],
      ['counts, queued + progress', () => m.countsBy(d, null, ACTIVE_STATUSES)],
      ['completions/failures in 60 s', () => m.endedSince(d, [d.nowPlusSeconds(-60)])],
      ['live workers', () => liveWorkers(d, 30)],
      ['running tasks + last line', () => m.runningTasks(d, { limit: 100 })],
      ['recent failures', () => m.latestWithStatus(d, { status: 'failed', limit: 20 })],
      ['selected task row', () => f.taskHead(d, pane.id)],
      [
        'new chunks of the pane',
        () =>
          f.chunksAfter(d, {
            id: pane.id,
            claim: 1,
            stream: 'output',
            afterSeq: pane.cursor?.seq ?? 0,
            maxChunks: 500,
            fromTail: false,
          }),
      ],
    ]
    for (const [label, fn] of queries) process.stdout.write(`    ${label.padEnd(34)} ${ms(await time(fn))}\n`)
  } finally {
    await d.close()
    await db.drop()
  }
}

process.stdout.write(
  `sq top refresh with ${ROWS} tasks, ${RUNS} runs each — ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, Node ${process.version}\n`,
)
for (const name of ['sqlite', 'postgres'] as const) if (!ONLY || ONLY === name) await bench(name)
