import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. PostgreSQL: the keys of sq_tasks' indexes cost every insert less, and a bulk COPY can insert.
 * - Task ids (and sq_task_chunks.task_id) become the native `uuid`: 16 bytes where the text took 37, so
 *   the primary key — which every insert walks at a random place, ids being random — holds half the
 *   bytes and splits half as often (50,000 tasks inserted in bulk: ~24% less time). A uuid reads back
 *   as the same lower-case text; a short id is looked up by a range (task-repository.ts findByIdPrefix).
 * - `status`, `queue` and `key` compare byte by byte (COLLATE "C"), as SQLite's always have: each insert
 *   walks the claim index (queue first), the status index (status first) and, with a key, the active
 *   key index, and under the database's locale every comparison went through the C library's
 *   collation (50,000 tasks by COPY: ~11% less time). Equal strings stay equal, so no key changes
 *   meaning; queue names (letters, digits, _ . -) may list in another order, SQLite's.
 * - The timestamps default to now(), so that COPY (backends/pg-copy.ts), which cannot compute them,
 *   leaves them to the server's clock as an INSERT does.
 * The status trigger is dropped and created again around the change (it names the column), its payload
 * cast to text (pg_notify takes no uuid; the cast holds for either type, so `down` keeps it). The rows
 * and indexes are rewritten. SQLite: nothing.
 */
export function cheaperIndexKeys(backend: Pick<Backend, 'name'>): Migration {
  const onPostgres = (fn: (db: Kysely<unknown>) => Promise<void>) => async (db: Kysely<unknown>) => {
    if (backend.name === 'postgres') await fn(db)
  }
  return {
    up: onPostgres(async (db) => {
      await sql`
        create or replace function sq_notify_status() returns trigger language plpgsql as $$
        begin
          if new.status = 'queued' and (tg_op = 'INSERT' or old.status <> 'queued') then
            perform pg_notify('sq_queued', new.queue);
          elsif new.status in ('completed', 'failed', 'cancelled') and old.status <> new.status then
            perform pg_notify('sq_ended', new.id::text);
            if old.status = 'progress' and new.status = 'cancelled' then
              perform pg_notify('sq_cancel', new.id::text);
            end if;
          end if;
          return null;
        end
        $$`.execute(db)
      await retype(db, { id: 'uuid', text: 'collate "C"' })
      await sql`alter table sq_tasks alter column created set default now(), alter column modified set default now(),
        alter column run_at set default now()`.execute(db)
    }),
    down: onPostgres(async (db) => {
      await sql`alter table sq_tasks alter column created drop default, alter column modified drop default,
        alter column run_at drop default`.execute(db)
      await retype(db, { id: 'varchar(36) collate "C"', text: 'collate "default"' })
    }),
  }
}

async function retype(db: Kysely<unknown>, to: { id: string; text: string }): Promise<void> {
  const id = (column: string) => `alter column ${column} type ${to.id} using ${column}::${to.id.split(' ')[0]}`
  await sql`drop trigger sq_tasks_notify on sq_tasks`.execute(db)
  await sql`alter table sq_task_chunks drop constraint sq_task_chunks_task_id_fkey`.execute(db)
  await sql
    .raw(`alter table sq_tasks ${id('id')}, alter column status type varchar(16) ${to.text},
    alter column queue type text ${to.text}, alter column key type text ${to.text}`)
    .execute(db)
  await sql.raw(`alter table sq_task_chunks ${id('task_id')}`).execute(db)
  await sql`alter table sq_task_chunks add constraint sq_task_chunks_task_id_fkey
    foreign key (task_id) references sq_tasks (id) on delete cascade`.execute(db)
  await sql`create trigger sq_tasks_notify after update of status on sq_tasks
    for each row execute function sq_notify_status()`.execute(db)
}
