import { Command, type Interfaces } from '@oclif/core'
import { resolveSettings, type Settings } from '../src/config.js'
import { EXIT, UsageError } from '../src/errors.js'
import { Queue } from '../src/queue/queue.js'
import { readLimited } from '../src/read-limited.js'
import type { Status } from '../src/types.js'
import type { CommandIO } from './actions/io.js'
import { logJsonDocument, logLine } from './actions/io.js'
import { parseStatuses } from './actions/list.js'
import { reportError } from './actions/report-error.js'
import { SHARED } from './flags.js'
import { oclifFlags } from './oclif-flags.js'

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
