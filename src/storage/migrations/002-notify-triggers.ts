import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * PostgreSQL: every status change notifies its listeners from inside the statement that made it, so
 * waking idle workers, stopping cancelled runs and refreshing `sq top` cost no extra round trip, and
 * no code path can forget to notify. SQLite has no LISTEN; there this migration does nothing, and keeps
 * the numbering the same on both.
 */
export function notifyTriggers(backend: Pick<Backend, 'name'>): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql`
        create function sq_notify_status() returns trigger language plpgsql as $$
        begin
          if new.status = 'queued' and (tg_op = 'INSERT' or old.status <> 'queued') then
            perform pg_notify('sq_queued', new.queue);
          elsif new.status in ('completed', 'failed', 'cancelled') and old.status <> new.status then
            perform pg_notify('sq_ended', new.id);
            if old.status = 'progress' and new.status = 'cancelled' then
              perform pg_notify('sq_cancel', new.id);
            end if;
          end if;
          return null;
        end
        $$`.execute(db)
      await sql`
        create trigger sq_tasks_notify after insert or update of status on sq_tasks
        for each row execute function sq_notify_status()`.execute(db)
    },
    async down(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql`drop trigger sq_tasks_notify on sq_tasks`.execute(db)
      await sql`drop function sq_notify_status()`.execute(db)
    },
  }
}
