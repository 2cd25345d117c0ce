import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. Two things a run's end must not lose:
 * - `claims`, the fencing token: a counter each claim raises and nothing lowers. Until now `attempts` was
 *   the token, and a run given back (uncharged: `attempts - 1`) let the next run reuse its number. A run
 *   in progress keeps the token it holds (claims = attempts); the chunks of runs are keyed by it.
 * - `sq_task_runs`, the history of a task's runs: one row per run that ended, written by a trigger when a
 *   task leaves `progress`, so every path that ends a run — verdict, rescue of a dead worker's run,
 *   cancel, give-back — records it, and none can forget. A run that never began (no `started`) is none.
 *   The outcome is read off the change: fewer attempts is a give-back, the rescue's error names a dead
 *   worker (heartbeat.ts), queued again is a retry, else the new status.
 */
export function claimCounterAndRuns(
  backend: Pick<Backend, 'name' | 'idType' | 'timestampType' | 'serialType'>,
): Migration {
  const pg = backend.name === 'postgres'
  const now = pg ? 'now()' : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
  const outcome = `case
      when new.status = 'queued' and new.attempts < old.attempts then 'given_back'
      when new.error like 'Worker % stopped heartbeating%' then 'lost'
      when new.status = 'queued' then 'retry'
      else new.status end`
  const insertRun = `insert into sq_task_runs (task_id, claim, attempt, worker, started, finished, outcome, error)
      values (new.id, old.claims, old.attempts, old.worker, coalesce(new.started, old.started),
        coalesce(new.finished, ${now}), ${outcome}, new.error)`
  const ended = `old.status = 'progress' and new.status <> 'progress' and old.started is not null`
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('sq_tasks')
        .addColumn('claims', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      await sql`update sq_tasks set claims = attempts where status = 'progress'`.execute(db)
      await sql`alter table sq_task_chunks rename column attempt to claim`.execute(db)
      await db.schema
        .createTable('sq_task_runs')
        .addColumn('seq', backend.serialType, (c) =>
          backend.serialType === 'integer' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('task_id', backend.idType, (c) => c.notNull().references('sq_tasks.id').onDelete('cascade'))
        .addColumn('claim', 'integer', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('worker', 'text')
        .addColumn('started', backend.timestampType)
        .addColumn('finished', backend.timestampType, (c) => c.notNull())
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('error', 'text')
        .execute()
      await db.schema.createIndex('sq_task_runs_task').on('sq_task_runs').columns(['task_id', 'seq']).execute()
      if (pg) {
        await sql
          .raw(`create function sq_record_run() returns trigger language plpgsql as $$
            begin
              ${insertRun};
              return null;
            end
            $$`)
          .execute(db)
        await sql
          .raw(`create trigger sq_tasks_run_ended after update of status on sq_tasks
            for each row when (${ended}) execute function sq_record_run()`)
          .execute(db)
      } else {
        await sql
          .raw(`create trigger sq_tasks_run_ended after update of status on sq_tasks
            when ${ended} begin ${insertRun}; end`)
          .execute(db)
      }
    },
    async down(db: Kysely<unknown>) {
      await sql`drop trigger sq_tasks_run_ended${sql.raw(pg ? ' on sq_tasks' : '')}`.execute(db)
      if (pg) await sql`drop function sq_record_run()`.execute(db)
      await db.schema.dropTable('sq_task_runs').execute()
      await sql`alter table sq_task_chunks rename column claim to attempt`.execute(db)
      await db.schema.alterTable('sq_tasks').dropColumn('claims').execute()
    },
  }
}
