import fs from 'node:fs'
import path from 'node:path'
import { SETTING_DEFAULTS } from './defaults.js'
import { UsageError } from './errors.js'
import { withInheritedPassword } from './inherited-database.js'
import { exportOf, importFile } from './loader.js'
import type { ScheduleDef } from './schedule/definition.js'
import { TERMINAL_STATUSES, type TerminalStatus } from './task.js'

/** Everything sq can be configured with; resolved as flag > environment > sq.config.* > default. */
export interface Settings {
  /** Database URL: postgres://…, sqlite:PATH, file:PATH or a plain path. */
  db: string
  /**
   * PostgreSQL only: a direct URL for LISTEN (and migrations, which take a session lock), when `db` goes
   * through a pooler in transaction mode (PgBouncer) that cannot carry them; null: `db` carries all.
   */
  listenUrl: string | null
  /** PostgreSQL: hot statements are named, prepared once per connection; false: unnamed (PgBouncer < 1.21). */
  preparedStatements: boolean
  /** Absolute directory task references are resolved against. */
  root: string
  /** Task references allowed to be enqueued and run; null: the project's own files under the root, no package. */
  allowedTasks: string[] | null
  /** Seconds a task may run; 0 disables the limit. */
  taskTimeout: number
  /** Bytes kept of a task's output and of its log. */
  maxOutputSize: number
  /** Bytes allowed for the JSON text of a task's args. */
  maxArgsSize: number
  /** Module (relative to the root) exporting the hook functions; null for none. */
  hooks: string | null
  /** Seconds without a heartbeat after which a worker is presumed dead. */
  heartbeatTimeout: number
  /** Origins (`https://sq.example.com`) `sq serve` also answers to behind a reverse proxy: their Host and Origin. */
  publicUrl: string[]
  /** Seconds between an idle worker's looks for work: the safety net under NOTIFY (PostgreSQL) and the WAL watch. */
  pollInterval: number
  /** Tasks a worker's task process runs at once (`--tasks-per-process`); 1 isolates each run in its process. */
  tasksPerProcess: number
  /** Recurring schedules (config file only): every worker fires them, each slot once (worker/duties.ts). */
  schedules: ScheduleDef[]
  /** How long ended tasks are kept, per status (`{ completed: '7d' }`; worker/duties.ts); unnamed: forever. */
  retention: Retention
}

/** Durations (parseDuration's forms) per ended status. */
export type Retention = Partial<Record<TerminalStatus, string>>

/** The defaults (src/defaults.ts), held to the settings' types. */
export const DEFAULTS: Omit<Settings, 'root'> = SETTING_DEFAULTS

const CONFIG_FILES = ['sq.config.ts', 'sq.config.mjs', 'sq.config.js', 'sq.config.json']

type Source = { name: string; values: Record<string, unknown> }

/** Settings no variable gives: a config file, a library caller, for retention also `sq worker --retention`. */
const FILE_ONLY = ['schedules', 'retention'] as const

/** The settings an environment variable may give. */
export type EnvSetting = Exclude<keyof Settings, (typeof FILE_ONLY)[number]>

/** The environment variable of each setting (also how a worker hands its settings to its task processes). */
export const ENV_VARS: Record<EnvSetting, string> = {
  db: 'SQ_DATABASE_URL',
  listenUrl: 'SQ_LISTEN_URL',
  preparedStatements: 'SQ_PREPARED_STATEMENTS',
  root: 'SQ_ROOT',
  allowedTasks: 'SQ_ALLOWED_TASKS',
  taskTimeout: 'SQ_TASK_TIMEOUT',
  maxOutputSize: 'SQ_MAX_OUTPUT_SIZE',
  maxArgsSize: 'SQ_MAX_ARGS_SIZE',
  hooks: 'SQ_HOOKS',
  heartbeatTimeout: 'SQ_HEARTBEAT_TIMEOUT',
  publicUrl: 'SQ_PUBLIC_URL',
  pollInterval: 'SQ_POLL_INTERVAL',
  tasksPerProcess: 'SQ_TASKS_PER_PROCESS',
}

/** Resolves the settings; `overrides` are the flags (or a library caller's options). The config file is in the root. */
export async function resolveSettings(
  overrides: Partial<Settings> = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): Promise<Settings> {
  const rootHint = path.resolve(cwd, overrides.root ?? nonEmpty(env.SQ_ROOT) ?? '.')
  const file = await loadConfigFile(rootHint)
  // A setting's value and where it came from, for messages.
  const pick = (key: EnvSetting): { value: unknown; from: string } | undefined => {
    const variable = ENV_VARS[key]
    if (overrides[key] !== undefined) return { value: overrides[key], from: 'flag' }
    // An empty SQ_ALLOWED_TASKS is an empty allowlist, which allows nothing (as an empty `allowedTasks`
    // does); any other empty variable is unset.
    if (nonEmpty(env[variable]) !== undefined || (key === 'allowedTasks' && env[variable] !== undefined))
      return { value: env[variable], from: variable }
    if (file?.values[key] !== undefined) return { value: file.values[key], from: file.name }
    return undefined
  }
  // Parsers name the setting and its source in their errors: "taskTimeout from SQ_TASK_TIMEOUT must be…".
  const read = <T>(key: EnvSetting, parse: (value: unknown, name: string) => T): T | undefined => {
    const picked = pick(key)
    return picked && parse(picked.value, `${key} from ${picked.from}`)
  }
  const root = pick('root')
  const configDir = file ? path.dirname(file.name) : rootHint
  const rootDir = root ? path.resolve(root.from === file?.name ? configDir : cwd, String(root.value)) : rootHint
  if (!fs.existsSync(rootDir) || !fs.statSync(rootDir).isDirectory()) {
    throw new UsageError(`root ${rootDir} is not a directory (from ${root?.from ?? 'the current directory'})`)
  }
  // In a task process, SQ_DATABASE_URL lacks the password its worker handed over otherwise.
  const db = read('db', (url) => withInheritedPassword(String(url))) ?? DEFAULTS.db
  return {
    root: rootDir,
    db,
    listenUrl: await listenUrl(db, pick('listenUrl')),
    preparedStatements: read('preparedStatements', boolean) ?? DEFAULTS.preparedStatements,
    allowedTasks: read('allowedTasks', list) ?? DEFAULTS.allowedTasks,
    taskTimeout: read('taskTimeout', seconds) ?? DEFAULTS.taskTimeout,
    maxOutputSize: read('maxOutputSize', bytes) ?? DEFAULTS.maxOutputSize,
    maxArgsSize: read('maxArgsSize', bytes) ?? DEFAULTS.maxArgsSize,
    hooks: read('hooks', String) ?? DEFAULTS.hooks,
    heartbeatTimeout: read('heartbeatTimeout', seconds) ?? DEFAULTS.heartbeatTimeout,
    publicUrl: read('publicUrl', origins) ?? DEFAULTS.publicUrl,
    pollInterval: read('pollInterval', (v, name) => seconds(v, name, { positive: true })) ?? DEFAULTS.pollInterval,
    tasksPerProcess: read('tasksPerProcess', count) ?? DEFAULTS.tasksPerProcess,
    schedules:
      overrides.schedules !== undefined
        ? await parseSchedules(overrides.schedules, 'options')
        : await parseSchedules(file?.values.schedules, `${file?.name}`),
    retention:
      overrides.retention !== undefined
        ? parseRetention(overrides.retention, 'options')
        : parseRetention(file?.values.retention, `retention from ${file?.name}`),
  }
}

/** Checks a retention setting: `{ completed: '7d', … }` or, from `sq worker --retention`, `completed=7d,failed=30d`. */
export function parseRetention(value: unknown, from: string): Retention {
  if (value === undefined || value === null) return {}
  const entries =
    typeof value === 'string'
      ? value
          .split(',')
          .filter((part) => part.trim() !== '')
          .map((part) => {
            const [status, duration, ...rest] = part.split('=').map((s) => s.trim())
            if (duration === undefined || rest.length > 0)
              throw new UsageError(`${from}: "${part}" must be STATUS=DURATION, like completed=7d`)
            return [status!, duration] as const
          })
      : typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(value)
        : undefined
  if (!entries) throw new UsageError(`${from} must be an object like { completed: '7d', failed: '30d' }`)
  for (const [status, duration] of entries) {
    if (!(TERMINAL_STATUSES as readonly string[]).includes(status))
      throw new UsageError(`${from}: unknown status "${status}" (use completed, failed or cancelled)`)
    parseDuration(String(duration), `${from}: ${status}`)
  }
  return Object.fromEntries(entries.map(([status, duration]) => [status, String(duration)]))
}

/** Their checker brings croner (~40 KB to parse), loaded only when there are schedules to check. */
async function parseSchedules(value: unknown, from: string): Promise<ScheduleDef[]> {
  if (value === undefined || value === null) return []
  return (await import('./schedule/definition.js')).parseSchedules(value, from)
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}

async function loadConfigFile(dir: string): Promise<Source | undefined> {
  const name = CONFIG_FILES.map((f) => path.join(dir, f)).find((f) => fs.existsSync(f))
  if (!name) return undefined
  let values: unknown
  try {
    values = name.endsWith('.json')
      ? JSON.parse(fs.readFileSync(name, 'utf8'))
      : exportOf(await importFile(name, 'isolated'), 'default')?.value
  } catch (error) {
    throw new UsageError(`config file ${name} is malformed: ${(error as Error).message.split('\n')[0]}`)
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new UsageError(
      `config file ${name} is malformed: it must ${name.endsWith('.json') ? 'hold' : 'export default'} an object`,
    )
  }
  const known = [...Object.keys(ENV_VARS), ...FILE_ONLY]
  const unknown = Object.keys(values).filter((k) => !known.includes(k))
  if (unknown.length > 0)
    throw new UsageError(`config file ${name} has unknown setting "${unknown[0]}" (known: ${known.join(', ')})`)
  return { name, values: values as Record<string, unknown> }
}

/** The non-blank items of a comma-separated list, trimmed. */
function commaList(text: string): string[] {
  return text.split(',').flatMap((item) => (item.trim() === '' ? [] : [item.trim()]))
}

function list(value: unknown, name: string): string[] {
  if (typeof value === 'string') return commaList(value)
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value
  throw new UsageError(`${name} must be a list of task references`)
}

/** Public URLs as origins, each http(s) without credentials, query or path (the dashboard owns its origin's root). */
function origins(value: unknown, name: string): string[] {
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? commaList(v) : [v]))
  return items.map((item) => {
    const url = typeof item === 'string' && URL.canParse(item) ? new URL(item) : undefined
    // Not echoed: it would show the password.
    if (url && (url.username || url.password)) throw new UsageError(`${name} must not hold a user name or password`)
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.pathname !== '/')
      throw new UsageError(
        `${name} must be http(s) URLs of an origin like https://sq.example.com, got "${String(item)}"`,
      )
    return url.origin
  })
}

/** A setting in seconds (parseDuration's rule); `positive`: above 0, for an interval, where 0 would spin. */
function seconds(value: unknown, name: string, o: { positive?: boolean } = {}): number {
  const n = typeof value === 'number' ? value : parseDuration(String(value), name, { plainSeconds: true }) / 1000
  if (!Number.isFinite(n) || n < 0 || (o.positive && n === 0))
    throw new UsageError(`${name} must be a number of seconds ${o.positive ? '> 0' : '≥ 0'}, got "${value}"`)
  return n
}

/** listenUrl, a PostgreSQL URL for a PostgreSQL `db`; the parser loads only when it is set. */
async function listenUrl(db: string, picked: { value: unknown; from: string } | undefined): Promise<string | null> {
  if (picked === undefined) return DEFAULTS.listenUrl
  const name = `listenUrl from ${picked.from}`
  const { parseDatabaseUrl } = await import('./storage/open.js')
  let location: ReturnType<typeof parseDatabaseUrl>
  try {
    location = parseDatabaseUrl(String(picked.value))
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`)
  }
  if (location.kind !== 'postgres') throw new UsageError(`${name} must be a postgres://… URL`)
  if (parseDatabaseUrl(db).kind !== 'postgres')
    throw new UsageError(`${name} is for PostgreSQL, but the database is SQLite (${db}): unset it`)
  return location.url
}

function boolean(value: unknown, name: string): boolean {
  if (typeof value === 'boolean') return value
  const text = String(value).trim().toLowerCase()
  if (text === 'true' || text === '1') return true
  if (text === 'false' || text === '0') return false
  throw new UsageError(`${name} must be true or false, got "${value}"`)
}

function count(value: unknown, name: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a whole number ≥ 1, got "${value}"`)
  return n
}

function bytes(value: unknown, name: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive number of bytes, got "${value}"`)
  return n
}

/** Milliseconds per unit of a duration, largest first: the order the parts of a duration are written in. */
const UNITS = Object.entries({ w: 604_800_000, d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 })

// One optional `<number><unit>` group per unit, in order ("1h30m", "1.5h"). A bare number is refused, never
// taken as milliseconds: `purge --older-than 7` would delete every ended task.
const DURATION = new RegExp(`^${UNITS.map(([unit]) => `(?:(\\d+(?:\\.\\d+)?)${unit})?`).join('')}$`, 'i')

const DURATION_FORMS = '90s, 10m, 1h30m, 7d or 2w (units w, d, h, m, s, ms)'

/** A duration in ms ("30d", "1h30m"), the one rule for every duration; `plainSeconds`: a plain number is seconds. */
export function parseDuration(text: string, flag: string, o: { plainSeconds?: boolean } = {}): number {
  const plain = /^\s*\d+(\.\d+)?\s*$/.test(text)
  if (plain && o.plainSeconds) return Number(text) * 1000
  const match = DURATION.exec(text.trim())
  if (match?.slice(1).some((part) => part !== undefined))
    return UNITS.reduce((total, [, size], i) => total + Number(match[i + 1] ?? 0) * size, 0)
  const forms = o.plainSeconds ? `${DURATION_FORMS}, or a number of seconds` : DURATION_FORMS
  throw new UsageError(
    `${flag} must be a duration like ${forms}, got "${text}"${plain ? ' (a number needs a unit)' : ''}`,
  )
}
