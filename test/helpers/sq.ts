import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { runSq, type CliResult, type RunOptions } from './cli.js'
import type { TestDatabase } from './db.js'
import { randomUUID } from 'node:crypto'
import type { Backend } from '../../src/storage/backend.js'
import { getTask, insertTask, type NewTask } from '../../src/storage/task-repository.js'
import { RECORD_COLUMNS } from '../../src/storage/task-row.js'
import type { Task } from '../../src/types.js'

/** Helpers for the command tests: run `sq` against a test database, with its dir as cwd and root. */

/** A task module the tests enqueue: `tasks#hello`, `tasks#fail`, in the test's dir. */
export const TASKS_SOURCE = `
export async function hello({ name = 'world' } = {}) { return 'hello ' + name }
export function fail() { throw new Error('boom') }
export default function () { return 'default' }
`

export function writeTaskModule(dir: string, name = 'tasks.ts', source = TASKS_SOURCE): void {
  fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
  fs.writeFileSync(path.join(dir, name), source)
}

/** `sq ...args` with the test database as SQ_DATABASE_URL and its dir as cwd. */
export function sq(db: TestDatabase, args: string[], o: Partial<RunOptions> = {}): Promise<CliResult> {
  return runSq(args, { cwd: db.dir, timeoutMs: 60_000, ...o, env: { SQ_DATABASE_URL: db.url, ...o.env } })
}

/** Runs `sq` and asserts exit 0, returning stdout. */
export async function sqOk(db: TestDatabase, args: string[], o: Partial<RunOptions> = {}): Promise<string> {
  const r = await sq(db, args, o)
  assert.equal(r.code, 0, `sq ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.stdout
}

/** `sq ... --json`, parsed. */
export async function sqJson<T = unknown>(db: TestDatabase, args: string[], o: Partial<RunOptions> = {}): Promise<T> {
  return JSON.parse(await sqOk(db, [...args, '--json'], o)) as T
}

/** Enqueues `tasks#hello` (or `task`) and returns the new id. */
export async function enqueue(db: TestDatabase, task = 'tasks#hello', extra: string[] = []): Promise<string> {
  return (await sqOk(db, ['enqueue', task, ...extra])).trim()
}

/** The error contract: the given exit code, exactly one line on stderr, nothing on stdout. */
export function assertOneLineError(r: CliResult, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}; stderr: ${r.stderr}; stdout: ${r.stdout}`)
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '')
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace')
  if (pattern) assert.match(lines[0]!, pattern)
}

/** Every task, newest first, read through sq's storage layer (as the CLI would store them). */
export async function allTasks(d: Backend): Promise<Array<Pick<Task, 'id' | 'task' | 'status'>>> {
  const rows = await d.db.selectFrom('sq_tasks').select(['id', 'task', 'status']).orderBy('created', 'desc').execute()
  return rows
}

/** A task read back through the storage layer: cheaper than spawning `sq show` (tested in show.test.ts). */
export async function readTask(d: Backend, id: string): Promise<Task> {
  const task = await getTask(d, id)
  if (!task) throw new Error(`no task ${id}`)
  return task
}

export async function countTasks(d: Backend): Promise<number> {
  const row = await d.db
    .selectFrom('sq_tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** Moves a task's `modified` (and `created`) into the past, as if it had ended `secondsAgo` ago. */
export async function age(d: Backend, id: string, secondsAgo: number): Promise<void> {
  const when = new Date(Date.now() - secondsAgo * 1000).toISOString()
  await d.db.updateTable('sq_tasks').set({ modified: when, created: when }).where('id', '=', id).execute()
}

/** Puts a task straight into a status, with output/error as a worker would have left them. */
export async function setStatus(
  d: Backend,
  id: string,
  status: Task['status'],
  fields: { output?: string | null; error?: string | null; log?: string | null; worker?: string | null } = {},
): Promise<void> {
  await d.db
    .updateTable('sq_tasks')
    .set({
      status,
      ...fields,
      ...(status === 'queued' ? {} : { started: new Date().toISOString() }),
      ...(status === 'completed' || status === 'failed' || status === 'cancelled'
        ? { finished: new Date().toISOString() }
        : {}),
    })
    .where('id', '=', id)
    .execute()
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The fields of every `--json` task record, from the one definition of the task row (pinned to the SPEC in task-row.test.ts). */
export const RECORD_FIELDS: readonly string[] = RECORD_COLUMNS

/** A task for the storage functions: queued now on `default`, overridable field by field. */
export function newTask(o: Partial<NewTask> = {}): NewTask {
  return {
    id: randomUUID(),
    task: 'tasks#hello',
    argsJson: '{}',
    queue: 'default',
    priority: 0,
    maxAttempts: 1,
    key: null,
    runAt: { afterSeconds: 0 },
    ...o,
  }
}

/** Puts a queued task straight into the database (setup for tests that are not about enqueueing). */
export async function insert(d: Backend, o: Partial<NewTask> = {}): Promise<string> {
  return (await insertTask(d, newTask(o))).id
}
