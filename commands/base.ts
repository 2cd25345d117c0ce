import { Args, Command, Flags, type Interfaces } from '@oclif/core'
import { resolveSettings, type Settings } from '../src/config.js'
import { EXIT, UsageError } from '../src/errors.js'
import { Queue } from '../src/queue/queue.js'
import { readLimited } from '../src/read-limited.js'
import type { Status } from '../src/types.js'
import type { CommandIO } from './actions/io.js'
import { logJsonDocument, logLine } from './actions/io.js'
import { parseStatuses } from './actions/list.js'
import { reportError } from './actions/report-error.js'
import type { ArgsOf, CommandDef, FlagDef, FlagsOf, FlagTable } from './flag-table.js'
import { SHARED } from './flags.js'

/** Bytes of ids `-` reads from stdin at most: ~450,000 ids, while `/dev/zero` cannot exhaust memory. */
const MAX_STDIN_IDS_BYTES = 16 * 1024 * 1024

/**
 * What every command shares: the --db/--root/--verbose flags, opening and closing the queue, and the
 * one place where an error becomes a line on stderr and an exit code.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = oclifFlags(SHARED)

  private queue: Queue | undefined
  private resolved: Settings | undefined

  /** The settings, resolved once, with the flags that override the environment and the config file. */
  protected async resolveSettings(
    flags: { db?: string; root?: string },
    extra: Partial<Settings> = {},
  ): Promise<Settings> {
    this.resolved ??= await resolveSettings({ db: flags.db, root: flags.root, ...extra })
    return this.resolved
  }

  /** Opens the queue once, on those settings; a database is created only when `create` says so (CommandIO). */
  protected async openQueue(
    flags: { db?: string; root?: string },
    extra: Partial<Settings> = {},
    open: { create?: boolean } = {},
  ): Promise<Queue> {
    this.queue ??= await Queue.withSettings(await this.resolveSettings(flags, extra), {
      create: open.create ?? false,
    })
    return this.queue
  }

  /**
   * Ids from the arguments, or from stdin (one per line or space-separated) when the only one is `-`;
   * `fromStdin` says which, as an empty stdin is nothing to do where no ids at all is bad input.
   */
  protected async idsFrom(argv: unknown[]): Promise<{ ids: string[]; fromStdin: boolean }> {
    const ids = argv.map(String)
    if (ids.length !== 1 || ids[0] !== '-') return { ids, fromStdin: false }
    const read = await readLimited(process.stdin, MAX_STDIN_IDS_BYTES)
    if (read.over)
      throw new UsageError(`stdin holds more than ${MAX_STDIN_IDS_BYTES} bytes; give fewer task ids at a time`)
    return { ids: read.text.split(/\s+/).filter(Boolean), fromStdin: true }
  }

  protected parseStatuses(text: string | undefined, flag = '--status'): Status[] | undefined {
    return parseStatuses(text, flag)
  }

  /** What the shared actions (commands/actions/) need, given by this command. */
  protected io(): CommandIO {
    return {
      json: this.jsonEnabled(),
      log: logLine,
      logJson: logJsonDocument,
      resolveSettings: (flags, extra) => this.resolveSettings(flags, extra),
      openQueue: (flags, extra, open) => this.openQueue(flags, extra, open),
    }
  }

  protected override async catch(error: Interfaces.CommandError): Promise<void> {
    const oclifExit = (error as { oclif?: { exit?: number } }).oclif?.exit
    // oclif's own parse errors (unknown flag, missing argument) are bad input: exit 2.
    const code =
      oclifExit !== undefined && !(error instanceof Error && 'exitCode' in error)
        ? oclifExit === 0
          ? 0
          : EXIT.usage
        : undefined
    reportError(error, this.argv, code)
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    await this.queue?.close().catch(() => {})
    this.queue = undefined
    this.resolved = undefined
    return super.finally(error)
  }
}

/** oclif's flags for a table (commands/flags.ts), typed as the table's parsed values. */
export function oclifFlags<T extends FlagTable>(table: T): Interfaces.FlagInput<FlagsOf<T>> {
  const flags: Interfaces.FlagInput = {}
  for (const [name, def] of Object.entries(table)) flags[name] = oclifFlag(def)
  // Where the table's types meet oclif's: each flag was built above from its own entry, as FlagsOf reads it.
  return flags as Interfaces.FlagInput<FlagsOf<T>>
}

/** oclif's arguments for a table's. */
export function oclifArgs<T extends CommandDef['args']>(table: T): Interfaces.ArgInput<ArgsOf<T>> {
  const args: Interfaces.ArgInput = {}
  for (const [name, def] of Object.entries(table)) args[name] = Args.string({ ...def })
  return args as Interfaces.ArgInput<ArgsOf<T>>
}

function oclifFlag({ type, default: value, exclusive, options, multiple, ...props }: FlagDef) {
  // Only what the entry declares: oclif's manifest and help tell a given `false` from none.
  const common = { ...props, ...(exclusive && { exclusive: [...exclusive] }) }
  if (type === 'boolean') return Flags.boolean({ ...common, ...(value !== undefined && { default: value === true }) })
  if (type === 'integer') return Flags.integer({ ...common, ...(typeof value === 'number' && { default: value }) })
  if (options) return Flags.option({ ...common, options, ...(typeof value === 'string' && { default: value }) })()
  if (multiple) return Flags.string({ ...common, multiple, ...(Array.isArray(value) && { default: [...value] }) })
  return Flags.string({ ...common, ...(typeof value === 'string' && { default: value }) })
}
