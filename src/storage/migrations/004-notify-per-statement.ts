import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. PostgreSQL: a new task notifies `sq_queued` (payload: its queue) once per INSERT statement and
 * queue, not once per row. Migration 002's row trigger ran a PL/pgSQL call for every row, most of a bulk
 * insert's cost beside the insert itself, to send what pg_notify folds into one message per transaction
 * anyway (the same channel and payload are delivered once). Listeners hear exactly what they heard
 * before; status changes (UPDATE) keep the row trigger, whose payload is the task's id. SQLite: nothing.
 */
export function notifyPerStatement(backend: Pick<Backend, 'name'>): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      // A task is always inserted queued (sq_notify_status notified only those on INSERT).
      await sql`
        create function sq_notify_inserted() returns trigger language plpgsql as $$
        begin
          perform pg_notify('sq_queued', q.queue) from (select distinct queue from sq_new_rows where status = 'queued') q;
          return null;
        end
        $$`.execute(db)
      await sql`drop trigger sq_tasks_notify on sq_tasks`.execute(db)
      await sql`
        create trigger sq_tasks_notify after update of status on sq_tasks
        for each row execute function sq_notify_status()`.execute(db)
      await sql`
        create trigger sq_tasks_notify_inserted after insert on sq_tasks
        referencing new table as sq_new_rows for each statement execute function sq_notify_inserted()`.execute(db)
    },
    async down(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql`drop trigger sq_tasks_notify_inserted on sq_tasks`.execute(db)
      await sql`drop function sq_notify_inserted()`.execute(db)
      await sql`drop trigger sq_tasks_notify on sq_tasks`.execute(db)
      await sql`
        create trigger sq_tasks_notify after insert or update of status on sq_tasks
        for each row execute function sq_notify_status()`.execute(db)
    },
  }
}
