import { Args, Flags } from '@oclif/core'
import { showAction } from './actions/show.js'
import type { Task } from '../src/types.js'
import { BaseCommand } from './base.js'

export default class Show extends BaseCommand {
  static override summary = 'Show every field of a task'
  static override examples = [
    '<%= config.bin %> show 3f2a9c',
    '<%= config.bin %> show 3f2a9c --follow',
    '<%= config.bin %> show 3f2a9c --json',
  ]
  static override enableJsonFlag = true
  static override args = {
    id: Args.string({ description: 'task id, or a unique prefix of at least 6 characters', required: true }),
  }
  static override flags = {
    follow: Flags.boolean({
      char: 'f',
      description: 'print the output as it grows until the task ends; exit 1 unless it completed',
      default: false,
    }),
  }

  async run(): Promise<Task> {
    const { args, flags } = await this.parse(Show)
    return showAction(this.io(), args.id, flags)
  }
}
