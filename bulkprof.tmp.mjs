import pg from 'pg'
import { randomUUID } from 'node:crypto'
import { openQueue } from '/work/main/dist/src/index.js'
import { runMigrations, Logger } from 'graphile-worker'
const admin = new pg.Client('postgres://postgres@127.0.0.1:5432/postgres'); await admin.connect()
for (const d of ['bp_sq','bp_gw']) { await admin.query(`drop database if exists ${d}`); await admin.query(`create database ${d}`) }
const q = await openQueue({ db: 'postgres://postgres@127.0.0.1:5432/bp_sq', root: '/tmp/tp' })
await q.enqueue({ task: 'tasks#noop' }).catch(()=>{})
await runMigrations({ connectionString: 'postgres://postgres@127.0.0.1:5432/bp_gw', logger: new Logger(() => () => {}) })
const sqc = new pg.Client('postgres://postgres@127.0.0.1:5432/bp_sq'); await sqc.connect()
const gwc = new pg.Client('postgres://postgres@127.0.0.1:5432/bp_gw'); await gwc.connect()
const N = 5000
for (let round = 0; round < 6; round++) {
  const rows = Array.from({length: N}, (_, i) => [randomUUID(), 'tasks#noop', JSON.stringify({i}), 'default', 0, 1, null, null, 0])
  const json = JSON.stringify(rows)
  let s = performance.now()
  await sqc.query(`INSERT INTO sq_tasks (id, task, args, status, queue, priority, max_attempts, attempts, key, created, modified, run_at)
      SELECT r.v ->> 0, r.v ->> 1, r.v ->> 2, 'queued', r.v ->> 3, (r.v ->> 4)::int, (r.v ->> 5)::int, 0, r.v ->> 6, now(), now(),
             coalesce((r.v ->> 7)::timestamptz, now() + make_interval(secs => (r.v ->> 8)::float8))
      FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS r(v, n) ORDER BY r.n`, [json])
  const tSq = performance.now() - s
  const gjson = JSON.stringify(Array.from({length: N}, (_, i) => ({i})))
  s = performance.now()
  await gwc.query(`SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
                   SELECT ROW('noop', x, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec FROM json_array_elements($1::json) x))`, [gjson])
  const tGw = performance.now() - s
  console.log(`raw sq insert ${tSq.toFixed(1)} ms, add_jobs ${tGw.toFixed(1)} ms per ${N}`)
}
await sqc.end(); await gwc.end(); await q.close()
