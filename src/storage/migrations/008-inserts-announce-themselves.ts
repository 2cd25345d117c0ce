import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. PostgreSQL: drops the insert trigger of migration 004. To name the queues an INSERT filled, it
 * had the server capture every new row into a transition table, ~9% of a bulk insert's time (50,000
 * tasks by COPY). Each INSERT of tasks now announces its queues itself, in its own transaction
 * (Backend.announceQueued): listeners hear what they heard before. Status changes keep their row
 * trigger. SQLite: nothing.
 */
export function insertsAnnounceThemselves(backend: Pick<Backend, 'name'>): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql`drop trigger sq_tasks_notify_inserted on sq_tasks`.execute(db)
      await sql`drop function sq_notify_inserted()`.execute(db)
    },
    async down(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql`
        create function sq_notify_inserted() returns trigger language plpgsql as $$
        begin
          perform pg_notify('sq_queued', q.queue) from (select distinct queue from sq_new_rows where status = 'queued') q;
          return null;
        end
        $$`.execute(db)
      await sql`
        create trigger sq_tasks_notify_inserted after insert on sq_tasks
        referencing new table as sq_new_rows for each statement execute function sq_notify_inserted()`.execute(db)
    },
  }
}
