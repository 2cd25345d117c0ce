import type { ColumnType, Selectable } from 'kysely'
import { MAX_ARGS_DEPTH, nestsDeeper, parseStoredArgs } from '../queue/args.js'
import type { Progress, Status, TaskArgs } from '../task.js'

/**
 * The task row, defined once: the table's type, the record `--json` prints (the SPEC's names), what a
 * claim and a requeue clear and what a verdict measures all derive from TASK_COLUMNS.
 */

/**
 * `timestamptz` on PostgreSQL (read as Date); ISO-8601 UTC text with ms on SQLite, which sorts in time
 * order. Both take an ISO string on write; the backend's `toIso` normalises what is read.
 */
export type Timestamp = ColumnType<Date | string, string, string>

/** How a column is stored, and so how it reads into the record. */
type Kind = 'text' | 'integer' | 'bigint' | 'timestamp' | 'json'

/**
 * What a task's life does to a column. claim: written by the claim, cleared back in the queue; result:
 * cleared by a claim and a requeue, written by the verdict; usage: a result the worker measures.
 */
type Role = 'claim' | 'result' | 'usage'

interface Column<Stored, Read> {
  readonly kind: Kind
  readonly role?: Role
  /** Kept out of the record: storage bookkeeping, not part of the SPEC's JSON. */
  readonly internal?: true
  /** A json column's reader of its text: throws on text that is not what the column holds. */
  readonly read?: (text: string) => unknown
  /** Never set: carries the stored and read types for the mapped types below. */
  readonly types?: { stored: Stored; read: Read }
}

const text = <T extends string = string>(): Column<T, T> => ({ kind: 'text' })
const integer = (): Column<number, number> => ({ kind: 'integer' })
/** An integer with a default, which an INSERT leaves out. */
const counter = (): Column<ColumnType<number, number | undefined, number>, number> => ({ kind: 'integer' })
/** PostgreSQL's driver reads int8 as a string (it may not fit a double); the record holds a number. */
const bigint = (): Column<number, number> => ({ kind: 'bigint' })
const timestamp = (): Column<Timestamp, string> => ({ kind: 'timestamp' })
/**
 * JSON text in the row, the parsed value in the record. Text the reader refuses is MALFORMED: the record
 * holds the text itself, so one bad row written by another writer never fails a reader.
 */
const json = <T>(read: (text: string) => T): Column<string, T | string> & { read: (text: string) => T } => ({
  kind: 'json',
  read,
})
const nullable = <S, R>(c: Column<S, R>): Column<S | null, R | null> => c
const role =
  <R extends Role>(r: R) =>
  <S, V>(c: Column<S, V>) => ({ ...nullable(c), role: r })
const claim = role('claim')
const result = role('result')
const usage = role('usage')
const internal = <C extends Column<unknown, unknown>>(c: C) => ({ ...c, internal: true as const })

/** sq_tasks, column by column, in the order of the record. */
export const TASK_COLUMNS = {
  id: text(),
  task: text(),
  /** JSON text of the args object. */
  args: json<TaskArgs>(parseStoredArgs),
  status: text<Status>(),
  output: result(text()),
  error: result(text()),
  log: result(text()),
  worker_pid: claim(integer()),
  /** `host:pid` of the worker. */
  worker: claim(text()),
  /** The sq_workers row of the run in progress; liveness is judged by its heartbeat. */
  worker_id: internal(claim(text())),
  created: timestamp(),
  modified: timestamp(),
  /** Written by the claim, or later (markStarted) for a task claimed ahead of a free slot. */
  started: claim(timestamp()),
  finished: result(timestamp()),
  /** Runs spent, what max_attempts counts: a run given back (uncharged) is handed back. */
  attempts: integer(),
  max_attempts: integer(),
  run_at: timestamp(),
  priority: integer(),
  queue: text(),
  key: nullable(text()),
  /** JSON text of the latest structured progress. */
  progress: result(json<Progress>(parseStoredProgress)),
  cpu_ms: usage(integer()),
  peak_rss_bytes: usage(bigint()),
  duration_ms: usage(integer()),
  /** Claims so far, never lowered: the fencing token of the run in progress (fencing.ts). */
  claims: internal(counter()),
} as const satisfies Record<string, Column<unknown, unknown>>

/** Progress as a task yields it: an object of optional numbers `current`, `total` and a string `message`. */
function parseStoredProgress(text: string): Progress {
  const value: unknown = JSON.parse(text)
  const p = value as Record<string, unknown>
  const optional = (field: string, type: string) => p[field] == null || typeof p[field] === type
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    !optional('current', 'number') ||
    !optional('total', 'number') ||
    !optional('message', 'string') ||
    nestsDeeper(value, MAX_ARGS_DEPTH)
  )
    throw new TypeError('progress must be an object of current, total and message')
  return value as Progress
}

/** A json column's stored text as the record holds it: the value, or the text itself if malformed. */
export function readJson<K extends 'args' | 'progress'>(name: K, text: string | null): TaskRecord[K] {
  if (text === null) return null as TaskRecord[K]
  try {
    return (TASK_COLUMNS[name] as unknown as Required<Column<string, unknown>>).read(text) as TaskRecord[K]
  } catch {
    return text as TaskRecord[K]
  }
}

type Columns = typeof TASK_COLUMNS
type ColumnName = keyof Columns
type StoredOf<C> = C extends Column<infer S, unknown> ? S : never
type ReadOf<C> = C extends Column<unknown, infer R> ? R : never
type WithRole<R extends Role> = { [K in ColumnName]: Columns[K] extends { role: R } ? K : never }[ColumnName]

/** The sq_tasks table as Kysely sees it. */
export type TasksTable = { -readonly [K in ColumnName]: StoredOf<Columns[K]> }
export type TaskRow = Selectable<TasksTable>

/** The task record with the SPEC's field names: what `--json` prints (`Task` in types.ts). */
export type TaskRecord = {
  -readonly [K in ColumnName as Columns[K] extends { internal: true } ? never : K]: ReadOf<Columns[K]>
}

const names = Object.keys(TASK_COLUMNS) as ColumnName[]
const withRole = <R extends Role>(...roles: R[]) =>
  names.filter((name) => roles.includes((TASK_COLUMNS[name] as Column<unknown, unknown>).role as R)) as WithRole<R>[]
const nulls = <K extends ColumnName>(columns: K[]) =>
  Object.fromEntries(columns.map((c) => [c, null])) as { [P in K]: null }

/** The record's fields, in order: every column but the internal ones. */
export const RECORD_COLUMNS = names.filter(
  (name) => !(TASK_COLUMNS[name] as Column<unknown, unknown>).internal,
) as Array<keyof TaskRecord>

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S
const camelCase = (name: string) => name.replace(/_(.)/g, (_, c: string) => c.toUpperCase())

/** What the worker measures of a run, named as the domain names it: cpu_ms → cpuMs, and so on. */
export type RunUsage = { [K in WithRole<'usage'> as CamelCase<K>]?: number | null }

/** Each usage column with its RunUsage field, for the statements that write a verdict. */
export const USAGE = withRole('usage').map((column) => ({ column, field: camelCase(column) as keyof RunUsage }))

/** A run's results cleared: a claim starts from this, and so does a requeue. */
export const CLEARED_RESULTS = nulls(withRole('result', 'usage'))

/** The claim's holder forgotten: a task back in the queue. */
export const CLEARED_CLAIM = nulls(withRole('claim'))

/** Every INSERT of new tasks: its `("id", …)` columns and values; `field(i, type?)`: newTasksJson's i-th field. */
export function newTaskInsert(now: string, field: (i: number, type?: string) => string, runAt: string) {
  const values = {
    id: field(0, 'uuid'),
    task: field(1),
    args: field(2),
    status: `'queued'`,
    queue: field(3),
    priority: field(4, 'integer'),
    max_attempts: field(5, 'integer'),
    attempts: '0',
    key: field(6),
    created: now,
    modified: now,
    run_at: runAt,
  } satisfies Partial<Record<ColumnName, string>>
  const columns = Object.keys(values).map((c) => `"${c}"`)
  return { columns: `(${columns.join(', ')})`, values: Object.values(values).join(', ') }
}

/** A row as the record, built from TASK_COLUMNS, which TaskRecord is mapped from (hence the one cast). */
export function toTask(backend: { toIso(value: Date | string): string }, row: TaskRow): TaskRecord {
  const record: Record<string, unknown> = {}
  for (const name of RECORD_COLUMNS) {
    const value = row[name]
    const { kind } = TASK_COLUMNS[name] as Column<unknown, unknown>
    record[name] =
      value === null
        ? null
        : kind === 'timestamp'
          ? backend.toIso(value as Date | string)
          : kind === 'json'
            ? readJson(name as 'args' | 'progress', value as string)
            : kind === 'bigint'
              ? Number(value)
              : value
  }
  return record as TaskRecord
}

/** A claimed task: its args stay the stored text, handed as they are to the task process, which parses them. */
export type ClaimedTask = Omit<TaskRecord, 'args'> & { args: string }

export function toClaimedTask(backend: { toIso(value: Date | string): string }, row: TaskRow): ClaimedTask {
  return { ...toTask(backend, { ...row, args: null as unknown as string }), args: row.args }
}
