import { Cron } from 'croner'
import { UsageError } from '../errors.js'
import { isPlainObject } from '../queue/args.js'
import { parseReference } from '../queue/reference.js'
import type { TaskArgs } from '../types.js'

/** What a worker that was down does with missed slots: fire the latest (default), none, or all (MAX_CATCH_UP_SLOTS). */
export const CATCH_UP_POLICIES = ['latest', 'none', 'all'] as const
export type CatchUp = (typeof CATCH_UP_POLICIES)[number]

/** A recurring schedule of `sq.config.*`, checked: `schedules: [{ name, cron, task, … }]`. */
export interface ScheduleDef {
  /** Unique among the schedules; the key of its state in the database. */
  name: string
  /** 5 fields (minute precision), 6 fields (the first is seconds), or @hourly/@daily/@weekly/@monthly/@yearly. */
  cron: string
  task: string
  args: TaskArgs
  queue: string
  priority: number
  /** IANA zone the cron fields are read in; null for UTC. */
  timezone: string | null
  catchUp: CatchUp
}

const KEYS = ['name', 'cron', 'task', 'args', 'queue', 'priority', 'timezone', 'catchUp']

/** The cron of a schedule, ready to enumerate slots (never started: croner only computes dates here). */
export function cronOf(def: Pick<ScheduleDef, 'cron' | 'timezone'>): Cron {
  // '5-or-6-parts': croner's 7th field (years) is not cron; legacy OR of day-of-month and day-of-week is.
  return new Cron(def.cron, { mode: '5-or-6-parts', timezone: def.timezone ?? 'UTC', paused: true })
}

/** Checks the `schedules` setting (from `from`); a UsageError names the schedule and its fault, on one line. */
export function parseSchedules(value: unknown, from: string): ScheduleDef[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value))
    throw new UsageError(`schedules from ${from} must be a list of { name, cron, task } objects`)
  const seen = new Set<string>()
  return value.map((entry, i) => {
    const def = parseOne(entry, i, from)
    if (seen.has(def.name))
      throw new UsageError(`schedule "${def.name}" from ${from} is defined twice: names must be unique`)
    seen.add(def.name)
    return def
  })
}

function parseOne(entry: unknown, index: number, from: string): ScheduleDef {
  const at = `schedule #${index + 1} from ${from}`
  if (!isPlainObject(entry)) throw new UsageError(`${at} must be an object like { name, cron, task }`)
  const name = entry.name
  if (typeof name !== 'string' || name.trim() === '') throw new UsageError(`${at} needs a name (a non-empty string)`)
  const bad = (problem: string) => new UsageError(`schedule "${name}" from ${from}: ${problem}`)
  // sq keeps rows of its own among the schedules' (worker/duties.ts).
  if (name.startsWith('sq:')) throw bad('names beginning "sq:" are reserved for sq')
  const unknown = Object.keys(entry).find((k) => !KEYS.includes(k))
  if (unknown) throw bad(`unknown field "${unknown}" (known: ${KEYS.join(', ')})`)
  if (typeof entry.task !== 'string') throw bad('needs a task reference like "tasks/report#build"')
  try {
    parseReference(entry.task)
  } catch (error) {
    throw bad((error as Error).message)
  }
  const args = entry.args ?? {}
  if (!isPlainObject(args)) throw bad('args must be an object')
  const queue = entry.queue ?? 'default'
  if (typeof queue !== 'string' || !/^[\w.-]+$/.test(queue))
    throw bad(`queue "${String(queue)}" may hold only letters, digits, _ . and -`)
  const priority = entry.priority ?? 0
  if (!Number.isInteger(priority)) throw bad(`priority must be a whole number, got ${JSON.stringify(priority)}`)
  const timezone = entry.timezone ?? null
  if (timezone !== null && (typeof timezone !== 'string' || !isTimeZone(timezone)))
    throw bad(`unknown timezone ${JSON.stringify(timezone)} (use an IANA name like "Europe/Paris")`)
  const catchUp = entry.catchUp ?? 'latest'
  if (!CATCH_UP_POLICIES.includes(catchUp as CatchUp))
    throw bad(`catchUp must be ${CATCH_UP_POLICIES.join(', ')}; got ${JSON.stringify(catchUp)}`)
  if (typeof entry.cron !== 'string') throw bad('needs a cron expression like "*/5 * * * *"')
  const cron = entry.cron.trim()
  const def = { name, cron, task: entry.task.trim(), args, queue, priority, timezone, catchUp } as ScheduleDef
  try {
    if (cronOf(def).nextRun() === null) throw new Error('it never fires')
  } catch (error) {
    throw bad(`cron "${entry.cron}" is malformed: ${(error as Error).message.replace(/^CronPattern: /, '')}`)
  }
  return def
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
