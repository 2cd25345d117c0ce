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

export const FAST_COMMANDS: Record<'enqueue' | 'show' | 'list', CommandSpec> = {
  enqueue: {
    args: 1,
    flags: {
      ...SHARED,
      args: { type: 'string' },
      arg: { type: 'string', multiple: true, default: [] },
      wait: { type: 'boolean', default: false },
      key: { type: 'string' },
      delay: { type: 'string', exclusive: ['at'] },
      at: { type: 'string', exclusive: ['delay'] },
      priority: { type: 'integer', default: 0 },
      queue: { type: 'string', default: 'default' },
      'max-attempts': { type: 'integer', default: 1 },
      jsonl: { type: 'string', exclusive: ['args', 'arg', 'wait'] },
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
}
