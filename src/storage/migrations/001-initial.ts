import { sql, type Kysely, type Migration, type SqlBool } from 'kysely'
import type { DdlTypes } from '../backend.js'

/** Frozen: a released migration is never edited; changes go in a new numbered file. */
export function initial(backend: DdlTypes): Migration {
  const ts = backend.timestampType
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sq_tasks')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('task', 'text', (c) => c.notNull())
        .addColumn('args', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) =>
          c.notNull().check(sql`status in ('queued', 'progress', 'completed', 'failed', 'cancelled')`),
        )
        .addColumn('output', 'text')
        .addColumn('error', 'text')
        .addColumn('log', 'text')
        .addColumn('worker_pid', 'integer')
        .addColumn('worker', 'text')
        .addColumn('worker_id', 'varchar(64)')
        .addColumn('created', ts, (c) => c.notNull())
        .addColumn('modified', ts, (c) => c.notNull())
        .addColumn('started', ts)
        .addColumn('finished', ts)
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('run_at', ts, (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('queue', 'text', (c) => c.notNull().defaultTo('default'))
        .addColumn('key', 'text')
        .addColumn('progress', 'text')
        .addColumn('cpu_ms', 'integer')
        .addColumn('peak_rss_bytes', 'bigint')
        .addColumn('duration_ms', 'integer')
        .execute()

      // The claim: the best runnable task of a queue. Partial, so it stays as small as the backlog.
      await db.schema
        .createIndex('sq_tasks_claim')
        .on('sq_tasks')
        .columns(['queue', 'priority desc', 'run_at', 'created'])
        .where(sql.ref('status'), '=', 'queued')
        .execute()
      // Listing newest first, overall and per status (sq list, sq top, purge's cutoff).
      await db.schema.createIndex('sq_tasks_modified').on('sq_tasks').column('modified').execute()
      await db.schema.createIndex('sq_tasks_status_modified').on('sq_tasks').columns(['status', 'modified']).execute()
      // Running tasks by worker, for rescuing the tasks of a dead worker.
      await db.schema
        .createIndex('sq_tasks_running')
        .on('sq_tasks')
        .column('worker_id')
        .where(sql.ref('status'), '=', 'progress')
        .execute()
      // --key: at most one queued or running task per key, enforced by the database, not by a check
      // that two enqueuers could both pass.
      await db.schema
        .createIndex('sq_tasks_active_key')
        .on('sq_tasks')
        .column('key')
        .unique()
        .where(sql<SqlBool>`key is not null and status in ('queued', 'progress')`)
        .execute()

      await db.schema
        .createTable('sq_task_chunks')
        .addColumn('seq', backend.serialType, (c) =>
          backend.serialType === 'integer' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('task_id', 'varchar(36)', (c) => c.notNull().references('sq_tasks.id').onDelete('cascade'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('stream', 'varchar(8)', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('sq_task_chunks_task')
        .on('sq_task_chunks')
        .columns(['task_id', 'stream', 'seq'])
        .execute()

      await db.schema
        .createTable('sq_workers')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('queues', 'text', (c) => c.notNull())
        .addColumn('concurrency', 'integer', (c) => c.notNull())
        .addColumn('running', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('started', ts, (c) => c.notNull())
        .addColumn('last_heartbeat', ts, (c) => c.notNull())
        .execute()
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('sq_task_chunks').execute()
      await db.schema.dropTable('sq_tasks').execute()
      await db.schema.dropTable('sq_workers').execute()
    },
  }
}
