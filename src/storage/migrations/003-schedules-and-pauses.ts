import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. Two small tables: the last slot each recurring schedule fired (its compare-and-set makes a slot
 * fire once however many workers race for it), and the paused queues the claim skips. On PostgreSQL,
 * resuming a queue notifies `sq_queued` with the queue's name from a trigger, as migration 002 does
 * for a queued task, so idle workers claim at once and no code path can forget it.
 */
export function schedulesAndPauses(backend: Pick<Backend, 'name' | 'timestampType'>): Migration {
  const ts = backend.timestampType
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sq_schedules')
        .addColumn('name', 'text', (c) => c.primaryKey())
        // The newest slot fired (or skipped by the catch-up policy); null until the first.
        .addColumn('last_slot', ts)
        .addColumn('last_task_id', 'varchar(36)')
        // When a worker first saw the schedule: no slot before it fires.
        .addColumn('created', ts, (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('sq_paused_queues')
        .addColumn('queue', 'text', (c) => c.primaryKey())
        .addColumn('paused_at', ts, (c) => c.notNull())
        .execute()
      if (backend.name !== 'postgres') return
      await sql`
        create function sq_notify_resumed() returns trigger language plpgsql as $$
        begin
          perform pg_notify('sq_queued', old.queue);
          return null;
        end
        $$`.execute(db)
      await sql`
        create trigger sq_paused_queues_notify after delete on sq_paused_queues
        for each row execute function sq_notify_resumed()`.execute(db)
    },
    async down(db: Kysely<unknown>) {
      if (backend.name === 'postgres') {
        await sql`drop trigger sq_paused_queues_notify on sq_paused_queues`.execute(db)
        await sql`drop function sq_notify_resumed()`.execute(db)
      }
      await db.schema.dropTable('sq_paused_queues').execute()
      await db.schema.dropTable('sq_schedules').execute()
    },
  }
}
