import { sql, type Kysely, type Migration } from 'kysely'
import type { Backend } from '../backend.js'

/**
 * Frozen. PostgreSQL: `sq_enqueue(task, args, …)`, enqueueing from SQL — a trigger, psql, any language —
 * in the caller's transaction, as graphile-worker's add_job; returns the task's id. It writes the row
 * createTask writes (the columns of task-row.ts's NEW_TASK_COLUMNS; test/storage/enqueue-function.test.ts
 * compares the two), with the checks SQL can make, each message as the library words it:
 * - the reference's form (queue/reference.ts): a module part, no whitespace in it, an export name; a
 *   module that leaves the root (an absolute path, a `..` segment) is refused, the allowlist being
 *   unknown here. Whether the module exists and the allowlist are checked by the worker before it runs;
 * - args a JSON object, at most `sq.max_args_size` bytes of JSON (a setting: `set sq.max_args_size =
 *   …`, default 1 MiB as maxArgsSize); their depth is checked when the task runs;
 * - priority an integer (the column's range), max_attempts ≥ 1, a queue name of letters, digits, _ . -,
 *   a key not empty; `run_at` a time, or `delay` from now.
 * With a key held by a queued or running task, that task's id and nothing written (as insertTask). Its
 * queue is announced on `sq_queued`, delivered at the caller's commit. `search_path` is pinned to the
 * schema migrated, so that a trigger of another schema finds sq's tables. SQLite has no such functions.
 */
export function enqueueFunction(backend: Pick<Backend, 'name'>): Migration {
  return {
    async up(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql
        .raw(`create function sq_enqueue(
          task text,
          args jsonb default '{}',
          queue text default 'default',
          priority integer default 0,
          max_attempts integer default 1,
          key text default null,
          run_at timestamptz default null,
          delay interval default null
        ) returns uuid language plpgsql volatile set search_path from current as $$
        declare
          reference text := btrim(sq_enqueue.task);
          module text := split_part(reference, '#', 1);
          export_name text := case when position('#' in reference) = 0 then 'default'
                                   else substr(reference, position('#' in reference) + 1) end;
          args_text text := sq_enqueue.args::text;
          max_size bigint := coalesce(nullif(current_setting('sq.max_args_size', true), '')::bigint, 1048576);
          new_id uuid := gen_random_uuid();
          held uuid;
        begin
          if module = '' then
            raise exception using errcode = '22023',
              message = format('malformed task reference "%s": the module part before # is empty', sq_enqueue.task);
          end if;
          if module ~ '\\s' then
            raise exception using errcode = '22023',
              message = format('malformed task reference "%s": the module path contains whitespace', sq_enqueue.task);
          end if;
          if export_name !~ '^[A-Za-z_$][A-Za-z0-9_$]*$' then
            raise exception using errcode = '22023',
              message = format('malformed task reference "%s": "%s" after # is not an export name', sq_enqueue.task, export_name);
          end if;
          if module ~ '^(/|\\\\|[A-Za-z]:)' or module ~ '(^|[/\\\\])\\.\\.([/\\\\]|$)' then
            raise exception using errcode = '22023',
              message = format('task "%s" is not allowed: it leaves the tasks root', reference);
          end if;
          if jsonb_typeof(sq_enqueue.args) is distinct from 'object' then
            raise exception using errcode = '22023',
              message = format('task args must be a JSON object, got %s', coalesce(jsonb_typeof(sq_enqueue.args), 'null'));
          end if;
          if octet_length(args_text) > max_size then
            raise exception using errcode = '22023',
              message = format('task args are %s bytes of JSON, over the limit of %s (sq.max_args_size)', octet_length(args_text), max_size);
          end if;
          if sq_enqueue.max_attempts is null or sq_enqueue.max_attempts < 1 then
            raise exception using errcode = '22023',
              message = format('max attempts must be a whole number ≥ 1, got %s', sq_enqueue.max_attempts);
          end if;
          if sq_enqueue.queue is null or sq_enqueue.queue !~ '^[A-Za-z0-9_.-]+$' then
            raise exception using errcode = '22023',
              message = format('queue name "%s" may hold only letters, digits, _ . and -', sq_enqueue.queue);
          end if;
          if sq_enqueue.key = '' then
            raise exception using errcode = '22023', message = 'key must not be empty';
          end if;
          loop
            insert into sq_tasks (id, task, args, status, queue, priority, max_attempts, attempts, key, created, modified, run_at)
            values (new_id, reference, args_text, 'queued', sq_enqueue.queue, coalesce(sq_enqueue.priority, 0),
              sq_enqueue.max_attempts, 0, sq_enqueue.key, now(), now(),
              coalesce(sq_enqueue.run_at, now() + coalesce(sq_enqueue.delay, interval '0')))
            on conflict do nothing;
            if found then
              perform pg_notify('sq_queued', sq_enqueue.queue);
              return new_id;
            end if;
            select t.id into held from sq_tasks t where t.key = sq_enqueue.key and t.status in ('queued', 'progress');
            if found then
              return held;
            end if;
            -- The holder ended between the insert and the read: the insert can succeed now.
          end loop;
        end
        $$`)
        .execute(db)
    },
    async down(db: Kysely<unknown>) {
      if (backend.name !== 'postgres') return
      await sql`drop function sq_enqueue(text, jsonb, text, integer, integer, text, timestamptz, interval)`.execute(db)
    },
  }
}
