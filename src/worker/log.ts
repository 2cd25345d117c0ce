import { escapeControl } from '../display-text.js'

/** Levels from the most to the least verbose; a sink shows its level and the ones after it. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** `text`: `TIME LINE` as always; `json`: one object per line for log shippers (pino's field names). */
export const LOG_FORMATS = ['text', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

/**
 * The level of a worker's log line (a plain sentence), from how it begins: the first matching rule wins,
 * else info. test/worker/cron.test.ts checks this table against a real worker.
 */
const RULES: Array<[RegExp, LogLevel]> = [
  // The periodic "[RAM Usage: …] Heartbeat" line: noise unless one is looking.
  [/^\[RAM Usage: /, 'debug'],
  // A task that ended failed (its last attempt), a verdict or claim the database would not take,
  // a worker that must stop: what cron should mail.
  [/^(failed|lost) \S+ in /, 'error'],
  [/^(lost the verdict|could not|cannot|worker error|stopping at once)\b/, 'error'],
  // A failure that will be retried, a task taken away, a worker presumed dead: worth a look.
  [/^will retry /, 'warn'],
  [/^worker \S+ was presumed dead/, 'warn'],
  // Waiting for the database at start (a failover, a restart): --quiet leaves these out.
  [/^database unreachable /, 'warn'],
]

function levelOf(line: string): LogLevel {
  for (const [pattern, level] of RULES) if (pattern.test(line)) return level
  return 'info'
}

/**
 * What a line about one task says as data: `--log-format json` adds these to the line's object, so a
 * log shipper can filter by task or sum durations without parsing the sentence (pino's snake_case).
 */
export interface TaskLogFields {
  task_id: string
  task: string
  attempt: number
  /** The task's status after the line's event (progress when it started); absent when not recorded. */
  status?: string
  duration_ms?: number
  /** The worker's name (host:pid). */
  worker: string
}

/** A worker's log: a sentence, and for a line about one task, that task's fields. */
export type WorkerLog = (line: string, fields?: TaskLogFields) => void

/**
 * The worker's log sink: lines stamped with the time, those below `level` dropped (default info), and those
 * of one event-loop turn written together (a write per line cost more CPU than a no-op task).
 */
export function bufferedLog(
  write: (text: string) => void,
  o: { level?: LogLevel; format?: LogFormat } = {},
): WorkerLog {
  const min = LOG_LEVELS.indexOf(o.level ?? 'info')
  const json = o.format === 'json'
  let pending = ''
  return (line, fields) => {
    const level = levelOf(line)
    if (LOG_LEVELS.indexOf(level) < min) return
    if (pending === '')
      setImmediate(() => {
        const text = pending
        pending = ''
        write(text)
      })
    const time = new Date().toISOString()
    // Task names and errors come from the table: a text line is escaped for the terminal it may reach.
    pending += json
      ? `${JSON.stringify({ time, level, pid: process.pid, msg: line, ...fields })}\n`
      : `${time} ${escapeControl(line, false)}\n`
  }
}
