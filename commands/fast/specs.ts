import { LOG_FORMATS, LOG_LEVELS } from '../../src/worker/log.js'

/**
 * The flags of the commands the fast path runs, as oclif declares them in commands/*.ts (a test holds
 * the two together through oclif.manifest.json). Only what parsing needs: the descriptions and help
 * stay with oclif, which prints help.
 */
export interface FlagSpec {
  type: 'string' | 'boolean' | 'integer'
  multiple?: boolean
  char?: string
  default?: string | number | boolean | string[]
  min?: number
  max?: number
  /** The values an option flag takes (oclif's Flags.option). */
  options?: readonly string[]
  exclusive?: string[]
}

export interface CommandSpec {
  /** How many positional arguments, all required. */
  args: number
  flags: Record<string, FlagSpec>
}

/** BaseCommand.baseFlags, and --json of the commands with `enableJsonFlag`. */
const SHARED: Record<string, FlagSpec> = {
  db: { type: 'string' },
  root: { type: 'string' },
  verbose: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
}

export type FastCommand = 'enqueue' | 'show' | 'list' | 'worker'

export function isFastCommand(id: string | undefined): id is FastCommand {
  return id !== undefined && Object.hasOwn(FAST_COMMANDS, id)
}

export const FAST_COMMANDS: Record<FastCommand, CommandSpec> = {
  enqueue: {
    args: 1,
    flags: {
      ...SHARED,
      args: { type: 'string' },
      arg: { type: 'string', multiple: true, default: [] },
      wait: { type: 'boolean', default: false },
      'wait-timeout': { type: 'string' },
      key: { type: 'string' },
      delay: { type: 'string', exclusive: ['at'] },
      at: { type: 'string', exclusive: ['delay'] },
      priority: { type: 'integer', default: 0 },
      queue: { type: 'string', default: 'default' },
      'max-attempts': { type: 'integer', default: 1 },
      jsonl: { type: 'string', exclusive: ['args', 'arg', 'wait', 'wait-timeout'] },
    },
  },
  show: {
    args: 1,
    flags: { ...SHARED, follow: { type: 'boolean', char: 'f', default: false } },
  },
  list: {
    args: 0,
    flags: {
      ...SHARED,
      status: { type: 'string' },
      task: { type: 'string' },
      search: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'integer', default: 50, min: 1 },
      quiet: { type: 'boolean', char: 'q', default: false },
    },
  },
  worker: {
    args: 0,
    flags: {
      db: SHARED.db!,
      root: SHARED.root!,
      verbose: SHARED.verbose!,
      concurrency: { type: 'integer', char: 'c', default: 1, min: 1, max: 256 },
      burst: { type: 'boolean', default: false },
      timeout: { type: 'string' },
      queue: { type: 'string', char: 'q', default: 'default' },
      grace: { type: 'string', default: '30s' },
      'max-memory': { type: 'integer', default: 2048, min: 16 },
      'max-tasks-per-process': { type: 'integer', min: 1 },
      quiet: { type: 'boolean', default: false, exclusive: ['log-level'] },
      'log-level': { type: 'string', options: LOG_LEVELS, default: 'info' },
      'log-format': { type: 'string', options: LOG_FORMATS, default: 'text' },
    },
  },
}
