import type { Interfaces } from '@oclif/core'
import { SETTING_DEFAULTS, TASK_DEFAULTS } from '../src/defaults.js'
import { LOG_FORMATS, LOG_LEVELS } from '../src/worker/log.js'

/**
 * Every command's flags and arguments as plain data, apart from its code (the fast path parses argv before
 * loading that or oclif): oclif's flags, the fast path's parser and the parsed types derive from them.
 */
export interface FlagDef {
  type: 'string' | 'boolean' | 'integer'
  description: string
  helpValue?: string
  char?: Interfaces.AlphabetLowercase
  multiple?: boolean
  default?: string | number | boolean | readonly string[]
  min?: number
  max?: number
  /** The values a string flag takes, and its type a union of them. */
  options?: readonly string[]
  exclusive?: readonly string[]
}

export type FlagTable = Readonly<Record<string, FlagDef>>

/** A command's table; `json` is oclif's `enableJsonFlag` (a `--json` that prints the returned data). */
export interface CommandDef {
  readonly args: Readonly<Record<string, { description: string; required?: boolean }>>
  readonly flags: FlagTable
  readonly json?: true
}

type ValueOf<F extends FlagDef> = F['type'] extends 'boolean'
  ? boolean
  : F['type'] extends 'integer'
    ? number
    : F extends { options: readonly (infer O)[] }
      ? O
      : F extends { multiple: true }
        ? string[]
        : string

/** The parsed values of a table's flags (a flag with no default may be absent), and of its arguments. */
export type FlagsOf<T extends FlagTable> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined
}

export type ArgsOf<T extends CommandDef['args']> = {
  -readonly [K in keyof T]: T[K] extends { required: true } ? string : string | undefined
}

/** A command's argv as parsed, the shared flags included; `argv`: all its arguments (a command not `strict`). */
export interface Parsed<C extends CommandDef> {
  args: ArgsOf<C['args']>
  flags: FlagsOf<C['flags']> & FlagsOf<typeof SHARED> & { json?: boolean }
  argv: string[]
}

/** Declares a command's table, keeping its literals (a default, an option list) for the derived types. */
export function defineCommand<const T extends CommandDef>(def: T): T {
  return def
}

/** A flag of each type, as oclif's (`flag.string(description, { default })`); a boolean's default is false. */
export const flag = {
  string: ofType('string', {}),
  integer: ofType('integer', {}),
  boolean: ofType('boolean', { default: false }),
}

function ofType<T extends FlagDef['type'], D extends Partial<FlagDef>>(type: T, defaults: D) {
  // biome-ignore lint/complexity/noBannedTypes: no other field is given
  return <const F extends Omit<FlagDef, 'type' | 'description'> = {}>(description: string, def: F = {} as F) => ({
    type,
    description,
    ...defaults,
    ...def,
  })
}

/** The flags of every command (oclif's baseFlags). */
export const SHARED = {
  db: flag.string('database URL: postgres://…, sqlite:PATH or a file path [env: SQ_DATABASE_URL]', {
    helpValue: 'URL',
  }),
  root: flag.string('directory task references are relative to [env: SQ_ROOT]', { helpValue: 'DIR' }),
  verbose: flag.boolean('print stack traces with errors'),
} as const satisfies FlagTable

const STATUSES = 'S[,S…]'
const DURATION = 'DURATION'

export const ENQUEUE = defineCommand({
  json: true,
  args: { task: { description: 'task reference: <module>#<export>, module relative to the root', required: true } },
  flags: {
    args: flag.string("the task's args: a JSON object, @file.json, or - for stdin", { helpValue: 'JSON' }),
    arg: flag.string(
      'one arg as key=value (value parsed as JSON when it parses; a number only when it reads back exactly, so 1.10 stays "1.10"); repeatable',
      { multiple: true, default: [] },
    ),
    wait: flag.boolean('block until the task ends, streaming its output; exit 1 unless it completed'),
    'wait-timeout': flag.string(
      'with --wait: stop waiting after this long (e.g. 10m), exit 1 and leave the task as it is',
      { helpValue: DURATION },
    ),
    key: flag.string('while a task with this key is queued or running, print its id and add nothing'),
    delay: flag.string('do not run before this long from now (e.g. 30s, 10m, 2h)', { exclusive: ['at'] }),
    at: flag.string('do not run before this time (ISO 8601)', { exclusive: ['delay'] }),
    priority: flag.integer('higher runs first', { default: TASK_DEFAULTS.priority }),
    queue: flag.string('queue name', { default: TASK_DEFAULTS.queue }),
    'max-attempts': flag.integer('runs allowed in all; failed runs with attempts left retry with backoff', {
      default: TASK_DEFAULTS.maxAttempts,
    }),
    jsonl: flag.string(
      'enqueue one task per line of FILE (- for stdin), each line a JSON object of args; one bad line refuses all; --key may name args: "report-{day}"',
      { helpValue: 'FILE', exclusive: ['args', 'arg', 'wait', 'wait-timeout'] },
    ),
  },
})

export const SHOW = defineCommand({
  json: true,
  args: { id: { description: 'task id, or a unique prefix of at least 6 characters', required: true } },
  flags: {
    follow: flag.boolean('print the output as it grows until the task ends; exit 1 unless it completed', { char: 'f' }),
  },
})

export const LIST = defineCommand({
  json: true,
  args: {},
  flags: {
    status: flag.string('only these statuses, comma-separated (queued, progress, completed, failed, cancelled)', {
      helpValue: STATUSES,
    }),
    task: flag.string(
      'task reference: with * or ? a glob anchored at both ends (hel* matches hello#x, not tasks/hello#x; * crosses / and #), else a substring; ignores case',
      { helpValue: 'PATTERN' },
    ),
    search: flag.string('text to find in the id, task, key, args, error or output; ignores case', {
      helpValue: 'TEXT',
    }),
    since: flag.string('only tasks modified since: a duration ago (1h, 2d) or an ISO time', { helpValue: 'WHEN' }),
    limit: flag.integer('most tasks to show (a note on stderr says when more match)', { default: 50, min: 1 }),
    quiet: flag.boolean('print ids only, one per line', { char: 'q' }),
  },
})

export const WORKER = defineCommand({
  args: {},
  flags: {
    concurrency: flag.integer('tasks run at once, by default each in its own process (at most 256 processes)', {
      char: 'c',
      default: 1,
      min: 1,
    }),
    burst: flag.boolean('exit once no runnable task is left: 0 if every task it ran completed, 1 if any failed'),
    timeout: flag.string(
      `how long a task may run: a duration (10m, 1h30m) or seconds, 0 for no limit [env: SQ_TASK_TIMEOUT; default ${SETTING_DEFAULTS.taskTimeout / 3600}h]`,
      { helpValue: DURATION },
    ),
    queue: flag.string('queues to take tasks from, comma-separated', { char: 'q', default: TASK_DEFAULTS.queue }),
    grace: flag.string('how long running tasks get to finish after SIGINT/SIGTERM: a duration (2m) or seconds', {
      default: '30s',
      helpValue: DURATION,
    }),
    retention: flag.string(
      'delete ended tasks older than this, per status (others are kept): completed=7d,failed=30d; replaces retention in sq.config.*',
      { helpValue: 'STATUS=DURATION[,…]' },
    ),
    'max-memory': flag.integer('heap limit of each task process, MiB', { default: 2048, min: 16 }),
    'max-tasks-per-process': flag.integer(
      'replace a task process after this many tasks (default: never), for code that leaks or changes',
      { min: 1 },
    ),
    'tasks-per-process': flag.integer(
      'tasks each task process runs AT ONCE, for I/O-bound tasks: they share its memory and crashes (default 1: each alone) [env: SQ_TASKS_PER_PROCESS]',
      { min: 1 },
    ),
    quiet: flag.boolean('print errors only (failed tasks, database trouble): nothing when all goes well', {
      exclusive: ['log-level'],
    }),
    'log-level': flag.string('least important lines shown; debug adds the heartbeat', {
      options: LOG_LEVELS,
      default: 'info',
    }),
    'log-format': flag.string(
      "text, or json: one JSON object per line {time, level, pid, msg}, with task_id, task, attempt, status, duration_ms, worker on a task's lines",
      { options: LOG_FORMATS, default: 'text' },
    ),
  },
})

/** `sq cancel` and `sq requeue` take any number of ids (their classes are not strict). */
const IDS = { ids: { description: 'task ids or unique prefixes; - reads them from stdin' } }

export const CANCEL = defineCommand({ json: true, args: IDS, flags: {} })

export const REQUEUE = defineCommand({
  json: true,
  args: IDS,
  flags: {
    status: flag.string('requeue every task in these statuses (completed, failed, cancelled)', { helpValue: STATUSES }),
  },
})

export const PURGE = defineCommand({
  json: true,
  args: {},
  flags: {
    'older-than': flag.string('delete tasks last modified longer ago than this', {
      default: '30d',
      helpValue: DURATION,
    }),
    status: flag.string('statuses to delete, comma-separated: completed, failed, cancelled', {
      default: 'completed,failed',
      helpValue: STATUSES,
    }),
    'dry-run': flag.boolean('count what would be deleted, delete nothing'),
  },
})

/** `sq pause` and `sq resume`: one queue named. */
const queueCommand = (description: string) =>
  defineCommand({ json: true, args: { queue: { description, required: true } }, flags: {} })

export const PAUSE = queueCommand('the queue to pause')
export const RESUME = queueCommand('the queue to resume')

export const SERVE = defineCommand({
  args: {},
  flags: {
    port: flag.integer('port to listen on (0 picks a free one)', { char: 'p', default: 8000, min: 0, max: 65535 }),
    host: flag.string(
      'address to bind; requests must name it as their Host (localhost too for 127.0.0.1). Others expose task data',
      { default: '127.0.0.1' },
    ),
    'public-url': flag.string(
      'behind a reverse proxy: the URL people open (https://sq.example.com), repeatable or comma-separated; its Host and Origin are accepted besides --host (also SQ_PUBLIC_URL, publicUrl in sq.config.*)',
      { multiple: true, helpValue: 'URL' },
    ),
    'allow-actions': flag.boolean(
      'let the dashboard cancel, requeue and purge tasks and pause and resume queues (POST with a per-process CSRF token); without it they answer 403',
    ),
  },
})

export const TOP = defineCommand({
  args: {},
  flags: {
    interval: flag.string('time between refreshes, 0.1 to 10 seconds: a duration (500ms, 2s) or seconds', {
      default: '0.4',
      helpValue: DURATION,
    }),
  },
})

export const HELP = defineCommand({
  args: { command: { description: 'the command to describe', required: false } },
  flags: { 'nested-commands': flag.boolean('include all nested commands in the output', { char: 'n' }) },
})

/** `sq migrate`, `sq schedules`, `sq stats`: the shared flags and --json. */
export const JSON_ONLY = defineCommand({ json: true, args: {}, flags: {} })
