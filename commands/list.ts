import { Flags } from '@oclif/core'
import { listAction } from './actions/list.js'
import type { Task } from '../src/types.js'
import { BaseCommand } from './base.js'

export default class List extends BaseCommand {
  static override summary = 'List tasks, newest first'
  static override examples = [
    '<%= config.bin %> list --status failed --since 1h',
    "<%= config.bin %> list --task 'reports/*' --search timeout --json",
    '<%= config.bin %> list --status failed -q | <%= config.bin %> requeue -',
  ]
  static override enableJsonFlag = true
  static override flags = {
    status: Flags.string({
      description: 'only these statuses, comma-separated (queued, progress, completed, failed, cancelled)',
      helpValue: 'S[,S…]',
    }),
    task: Flags.string({
      description:
        'task reference: with * or ? a glob anchored at both ends (hel* matches hello#x, not tasks/hello#x; * crosses / and #), else a substring; ignores case',
      helpValue: 'PATTERN',
    }),
    search: Flags.string({
      description: 'text to find in the id, task, key, args, error or output; ignores case',
      helpValue: 'TEXT',
    }),
    since: Flags.string({
      description: 'only tasks modified since: a duration ago (1h, 2d) or an ISO time',
      helpValue: 'WHEN',
    }),
    limit: Flags.integer({
      description: 'most tasks to show (a note on stderr says when more match)',
      default: 50,
      min: 1,
    }),
    quiet: Flags.boolean({ char: 'q', description: 'print ids only, one per line', default: false }),
  }

  async run(): Promise<Task[]> {
    const { flags } = await this.parse(List)
    return listAction(this.io(), flags)
  }
}
