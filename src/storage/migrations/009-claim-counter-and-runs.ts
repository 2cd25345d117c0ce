import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. Two things a run's end must not lose:
 * - `claims`, the fencing token: a counter each claim raises and nothing lowers. Until now `attempts` was
 *   the token, and a run given back (uncharged: `attempts - 1`) let the next run reuse its number. A run
 *   in progress keeps the token it holds (claims = attempts); the chunks of runs are keyed by it.
 * - `sq_task_runs`, the history of a task's earlier runs. The task row holds its latest run; a trigger
 *   copies that run here at the moment the row is about to forget it — when the task goes back to the
 *   queue, from `progress` (a retry, a give-back) or from an end (`sq requeue`) — so every path that does
 *   so records it and none can forget, while a task that runs once (the common case) writes nothing
 *   more. A run that never began (no `started`) is none. The outcome is read off the change: fewer
 *   attempts is a give-back, an error naming a dead worker (heartbeat.ts) is lost, else a retry or
 *   the status the run had ended in (task-repository.ts reads the latest run alike).
 */
export function claimCounterAndRuns(
  backend: Pick<Backend, 'name' | 'idType' | 'timestampType' | 'serialType'>,
): Migration {
  const pg = backend.name === 'postgres'
  const now = pg ? 'now()' : `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
  // A run in progress sent back to the queue: the verdict (or release) writes its end into `new`.
  const fromProgress = `insert into sq_task_runs (task_id, claim, attempt, worker, started, finished, outcome, error)
      values (new.id, old.claims, old.attempts, old.worker, coalesce(new.started, old.started), ${now},
        case when new.attempts < old.attempts then 'given_back'
             when new.error like 'Worker % stopped heartbeating%' then 'lost' else 'retry' end, new.error)`
  // An ended task requeued: its last run is all in `old`.
  const fromEnd = `insert into sq_task_runs (task_id, claim, attempt, worker, started, finished, outcome, error)
      values (old.id, old.claims, old.attempts, old.worker, old.started, coalesce(old.finished, ${now}),
        case when old.error like 'Worker % stopped heartbeating%' then 'lost' else old.status end, old.error)`
  const forgotten = `new.status = 'queued' and old.status <> 'queued' and old.started is not null`
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
              if old.status = 'progress' then ${fromProgress}; else ${fromEnd}; end if;
              return null;
            end
            $$`)
          .execute(db)
        await sql
          .raw(`create trigger sq_tasks_run_kept after update of status on sq_tasks
            for each row when (${forgotten}) execute function sq_record_run()`)
          .execute(db)
      } else {
        await sql
          .raw(`create trigger sq_tasks_run_kept after update of status on sq_tasks
            when ${forgotten} and old.status = 'progress' begin ${fromProgress}; end`)
          .execute(db)
        await sql
          .raw(`create trigger sq_tasks_run_kept_at_requeue after update of status on sq_tasks
            when ${forgotten} and old.status <> 'progress' begin ${fromEnd}; end`)
          .execute(db)
      }
    },
    async down(db: Kysely<unknown>) {
      if (pg) {
        await sql`drop trigger sq_tasks_run_kept on sq_tasks`.execute(db)
        await sql`drop function sq_record_run()`.execute(db)
      } else {
        await sql`drop trigger sq_tasks_run_kept`.execute(db)
        await sql`drop trigger sq_tasks_run_kept_at_requeue`.execute(db)
      }
      await db.schema.dropTable('sq_task_runs').execute()
      await sql`alter table sq_task_chunks rename column claim to attempt`.execute(db)
      await db.schema.alterTable('sq_tasks').dropColumn('claims').execute()
    },
  }
}
