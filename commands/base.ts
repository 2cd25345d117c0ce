import { Args, Command, Flags, type Interfaces, loadHelpClass } from '@oclif/core'
import { resolveSettings } from '../src/config.js'
import { EXIT, oneLine } from '../src/errors.js'
import { Queue } from '../src/queue/queue.js'
import { type Command as SqCommand, commandIO, reportError } from './actions/io.js'
import type { ArgsOf, CommandDef, FlagDef, FlagsOf, FlagTable, Parsed } from './flags.js'
import { HELP, SHARED } from './flags.js'

/**
 * oclif's class for a command (commands/*.ts): its flags and the shared ones; the queue opened once and
 * closed at the end; the one place where an error becomes a line on stderr and an exit code.
 */
export function oclifCommand(spec: SqCommand): Command.Class {
  return class extends Command {
    static override summary = spec.summary
    static override description = spec.description
    static override examples = spec.examples
    static override strict = spec.strict ?? true
    static override enableJsonFlag = spec.json ?? false
    static override baseFlags = oclifFlags(SHARED)
    static override args = oclifArgs(spec.args)
    static override flags = oclifFlags(spec.flags)
    io: ReturnType<typeof commandIO> | undefined

    async run(): Promise<unknown> {
      const parsed = await this.parse()
      this.io = commandIO(this.jsonEnabled(), async () => ({ resolveSettings, Queue }), {
        logJson: (value) => this.logJson(value),
      })
      // Where oclif's parse meets the table's types: its flags and args were built from that table.
      return spec.run(this.io, parsed as unknown as Parsed<CommandDef>)
    }

    protected override async catch(error: Interfaces.CommandError): Promise<void> {
      // oclif's own errors (unknown flag, missing argument) are bad input: exit 2; sq's carry their exit code.
      const oclifExit =
        error instanceof Error && 'exitCode' in error ? undefined : (error as { oclif?: { exit?: number } }).oclif?.exit
      reportError(error, this.argv, oclifExit && EXIT.usage)
    }

    protected override async finally(error: Error | undefined): Promise<void> {
      await this.io?.close()
      return super.finally(error)
    }
  }
}

/** `sq help [COMMAND]`, as @oclif/plugin-help's without loading it: an unknown command gets `sq: …` and exit 2. */
export class Help extends Command {
  static override summary = 'Show help for sq or one of its commands'
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help worker']
  static override args = oclifArgs(HELP.args)
  static override flags = oclifFlags(HELP.flags)
  static override strict = false

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Help)
    const HelpClass = await loadHelpClass(this.config)
    await new HelpClass(this.config, { all: flags['nested-commands'] }).showHelp(argv as string[])
  }

  protected override async catch(error: Interfaces.CommandError): Promise<void> {
    process.stderr.write(
      `sq: ${oneLine(error.message.replace(/^Command (\S+) not found\.$/, '"$1" is not a sq command (sq help lists them)'))}\n`,
    )
    process.exitCode = EXIT.usage
  }
}

/** oclif's flags for a table (commands/flags.ts), typed as the table's parsed values. */
function oclifFlags<T extends FlagTable>(table: T): Interfaces.FlagInput<FlagsOf<T>> {
  const flags: Interfaces.FlagInput = {}
  for (const [name, def] of Object.entries(table)) flags[name] = oclifFlag(def)
  // Where the table's types meet oclif's: each flag was built above from its own entry, as FlagsOf reads it.
  return flags as Interfaces.FlagInput<FlagsOf<T>>
}

/** oclif's arguments for a table's. */
function oclifArgs<T extends CommandDef['args']>(table: T): Interfaces.ArgInput<ArgsOf<T>> {
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
