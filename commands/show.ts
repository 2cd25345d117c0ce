import { showAction } from './actions/show.js'
import type { Task } from '../src/types.js'
import { BaseCommand, oclifArgs, oclifFlags } from './base.js'
import { SHOW } from './flags.js'

export default class Show extends BaseCommand {
  static override summary = 'Show every field of a task'
  static override examples = [
    '<%= config.bin %> show 3f2a9c',
    '<%= config.bin %> show 3f2a9c --follow',
    '<%= config.bin %> show 3f2a9c --json',
  ]
  static override enableJsonFlag = SHOW.json
  static override args = oclifArgs(SHOW.args)
  static override flags = oclifFlags(SHOW.flags)

  async run(): Promise<Task> {
    const { args, flags } = await this.parse(Show)
    return showAction(this.io(), args.id, flags)
  }
}
