import type { Queue } from '../src/index.js'
import type { Kind } from './sq.js'

/** Seeds the tasks in SQL: half the queued ones in `default`, half in `other`; a tenth of the ended ones failed. */
export async function seedBacklog(q: Queue, kind: Kind, queued: number, ended: number): Promise<void> {
  const run = (text: string) => q.backend.query(text, [])
  if (kind === 'postgres') {
    await run(`insert into sq_tasks (id, task, args, status, queue, priority, max_attempts, created, modified, run_at)
      select gen_random_uuid(), 'tasks#noop', '{}', 'queued', case when i % 2 = 0 then 'default' else 'other' end,
        i % 3, 1, t, t, t from (select i, now() - interval '1 hour' + i * interval '1 microsecond' as t
        from generate_series(1, ${queued}) as i) as s`)
    await run(`insert into sq_tasks (id, task, args, status, queue, max_attempts, attempts, claims, created,
        modified, run_at, started, finished, output, duration_ms, worker)
      select gen_random_uuid(), 'tasks#noop', '{}', case when i % 10 = 0 then 'failed' else 'completed' end,
        case when i % 2 = 0 then 'default' else 'other' end, 1, 1, 1, t, t, t, t, t, 'ok', 1, 'h:1'
      from (select i, now() - i * interval '2592 milliseconds' as t from generate_series(1, ${ended}) as i) as s`)
    await run('vacuum analyze sq_tasks')
    return
  }
  const id = `lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(2)) || '-' || hex(randomblob(6)))`
  const at = (offset: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', (${offset}) || ' seconds')`
  const series = (n: number) => `with recursive s(i) as (select 1 union all select i + 1 from s where i < ${n})`
  await run(`insert into sq_tasks (id, task, args, status, queue, priority, max_attempts, created, modified, run_at)
    ${series(queued)} select ${id}, 'tasks#noop', '{}', 'queued', case when i % 2 = 0 then 'default' else 'other' end,
      i % 3, 1, t, t, t from (select i, ${at('-3600 + i / 1000000.0')} as t from s)`)
  await run(`insert into sq_tasks (id, task, args, status, queue, max_attempts, attempts, claims, created, modified,
      run_at, started, finished, output, duration_ms, worker)
    ${series(ended)} select ${id}, 'tasks#noop', '{}', case when i % 10 = 0 then 'failed' else 'completed' end,
      case when i % 2 = 0 then 'default' else 'other' end, 1, 1, 1, t, t, t, t, t, 'ok', 1, 'h:1'
    from (select i, ${at('-i * 2.592')} as t from s)`)
}
