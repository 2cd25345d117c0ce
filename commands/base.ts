import fs from 'node:fs'
import { Command, Flags, type Interfaces } from '@oclif/core'
import type { Settings } from '../src/config.js'
import { coerceError, EXIT, oneLine, UsageError } from '../src/errors.js'
import { Queue } from '../src/queue/queue.js'
import { isStatus, type Status } from '../src/types.js'

/**
 * What every command shares: the --db/--root/--verbose flags, opening and closing the queue, and the
 * one place where an error becomes a line on stderr and an exit code.
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    db: Flags.string({ description: 'database URL: postgres://…, sqlite:PATH or a file path [env: SQ_DATABASE_URL]', helpValue: 'URL' }),
    root: Flags.string({ description: 'directory task references are relative to [env: SQ_ROOT]', helpValue: 'DIR' }),
    verbose: Flags.boolean({ description: 'print stack traces with errors', default: false }),
  }

  private queue: Queue | undefined

  /** Opens the queue once, with the flags that override the environment and the config file. */
  protected async openQueue(flags: { db?: string; root?: string }, extra: Partial<Settings> = {}): Promise<Queue> {
    this.queue ??= await Queue.open({ db: flags.db, root: flags.root, ...extra })
    return this.queue
  }

  protected readStdin(): string {
    return fs.readFileSync(0, 'utf8')
  }

  /** Ids from the arguments, or from stdin (one per line or space-separated) when the only one is `-`. */
  protected idsFrom(argv: unknown[]): string[] {
    const ids = argv.map(String)
    if (ids.length === 1 && ids[0] === '-') return this.readStdin().split(/\s+/).filter(Boolean)
    return ids
  }

  protected parseStatuses(text: string | undefined, flag = '--status'): Status[] | undefined {
    if (text === undefined) return undefined
    const parts = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)
    const bad = parts.find((s) => !isStatus(s))
    if (bad !== undefined || parts.length === 0) {
      throw new UsageError(`${flag}: unknown status "${bad ?? text}" (use queued, progress, completed, failed or cancelled)`)
    }
    return parts as Status[]
  }

  protected override async catch(error: Interfaces.CommandError): Promise<void> {
    const oclifExit = (error as { oclif?: { exit?: number } }).oclif?.exit
    const sq = coerceError(error)
    // oclif's own parse errors (unknown flag, missing argument) are bad input: exit 2.
    const code = oclifExit !== undefined && !(error instanceof Error && 'exitCode' in error) ? (oclifExit === 0 ? 0 : EXIT.usage) : sq.exitCode
    if (code === 0) return
    const verbose = this.argv.includes('--verbose') || Boolean(process.env.DEBUG)
    process.stderr.write(`sq: ${verbose ? sq.stack ?? sq.message : oneLine(sq.message)}\n`)
    process.exitCode = code
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    await this.queue?.close().catch(() => {})
    this.queue = undefined
    return super.finally(error)
  }
}
