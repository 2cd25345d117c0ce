import { Command, loadHelpClass, type Interfaces } from '@oclif/core'
import { EXIT, oneLine } from '../src/errors.js'
import { oclifArgs, oclifFlags } from './base.js'
import { HELP } from './flags.js'

/**
 * `sq help [COMMAND]`: oclif's help, as @oclif/plugin-help shows it, written here so that an unknown
 * command gets sq's one-line `sq: …` error and exit 2, and no plugin loads at each start.
 */
export default class Help extends Command {
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
