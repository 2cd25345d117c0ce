import type { resolveSettings, Settings } from '../../src/config.js'
import { escapeControl, firstNonBlankLine } from '../../src/display-text.js'
import { coerceError, oneLine, TaskEndedBadlyError } from '../../src/errors.js'
import type { Queue } from '../../src/queue/queue.js'
import type { Task } from '../../src/types.js'
import type { CommandDef, FlagsOf, Parsed, SHARED } from '../flags.js'

/** The shared flags the settings are resolved with. */
export type SharedFlags = Pick<FlagsOf<typeof SHARED>, 'db' | 'root'>

/** A command: its table (commands/flags.ts), its help beyond the flags (oclif's statics), and its code. */
export type Command<C extends CommandDef = CommandDef> = C & {
  summary: string
  description?: string
  examples: string[]
  /** Takes any number of arguments, in `argv` (oclif's `strict = false`). */
  strict?: false
  run(io: CommandIO, parsed: Parsed<C>): Promise<unknown>
}

/** A command on its table; plain data, so that the fast path runs it without loading oclif. */
export function command<const C extends CommandDef>(table: C, spec: Omit<Command<C>, keyof CommandDef>): Command<C> {
  return { ...table, ...spec }
}

/** What a command needs from either front end (oclif's base.ts, fast/): the same, so both print the same bytes. */
export type CommandIO = Omit<ReturnType<typeof commandIO>, 'close'>

/** A CommandIO, and `close` for its queue. `core`: what opening needs (the fast path imports it on demand). */
export function commandIO(
  json: boolean,
  core: () => Promise<{ resolveSettings: typeof resolveSettings; Queue: typeof Queue }>,
  o: { lazy?: boolean; logJson?: (value: unknown) => void } = {},
) {
  let settings: Promise<Settings> | undefined
  let queue: Promise<Queue> | undefined
  /** The settings, resolved once: the flags, then the environment and the config file. */
  const resolve = async (f: SharedFlags, extra?: Partial<Settings>) =>
    (settings ??= core().then((m) => m.resolveSettings({ db: f.db, root: f.root, ...extra })))
  return {
    /** `--json` was given: print data with logJson, nothing else on stdout. */
    json,
    // oclif's `this.log` is console.log of the text: the same bytes, written the same way.
    log: (text: string) => console.log(text),
    // oclif's logJson without a theme: JSON indented by 2, then a newline.
    logJson: o.logJson ?? ((value: unknown) => console.log(JSON.stringify(value, null, 2))),
    resolveSettings: resolve,
    /** The queue, opened once on those settings; only commands that write pass `create` (SPEC §5). */
    openQueue: async (f: SharedFlags, extra?: Partial<Settings>, open?: { create?: boolean }) => {
      queue ??= Promise.all([core(), resolve(f, extra)]).then(([m, s]) =>
        m.Queue.withSettings(s, { lazy: o.lazy, create: open?.create ?? false }),
      )
      // Kept once open only: a worker waiting for its database opens it again.
      queue.catch(() => (queue = undefined))
      return queue
    },
    close: async () => (await queue?.catch(() => undefined))?.close().catch(() => {}),
  }
}

/** An error as one line on stderr (a stack with --verbose or DEBUG) and exitCode; `exitCode` overrides the error's. */
export function reportError(error: unknown, argv: string[], exitCode?: number): void {
  const sq = coerceError(error)
  const code = exitCode ?? sq.exitCode
  if (code === 0) return
  const verbose = argv.includes('--verbose') || Boolean(process.env.DEBUG)
  // Messages quote input and task errors: escaped, so that none can drive the terminal.
  process.stderr.write(`sq: ${escapeControl(verbose ? (sq.stack ?? sq.message) : oneLine(sq.message))}\n`)
  process.exitCode = code
}

/** The end of `--wait` and `--follow`: the task if it completed, else (with --json, its record) TaskEndedBadlyError. */
export function completedOrExit(io: CommandIO, task: Task): Task {
  if (task.status === 'completed') return task
  if (io.json) io.logJson(task)
  throw new TaskEndedBadlyError(
    `task ${task.id} ${task.status}${task.error ? `: ${firstNonBlankLine(task.error)}` : ''}`,
  )
}
