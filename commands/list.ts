import { listAction } from './actions/list.js'
import type { Task } from '../src/types.js'
import { BaseCommand, oclifFlags } from './base.js'
import { LIST } from './flags.js'

export default class List extends BaseCommand {
  static override summary = 'List tasks, newest first'
  static override examples = [
    '<%= config.bin %> list --status failed --since 1h',
    "<%= config.bin %> list --task 'reports/*' --search timeout --json",
    '<%= config.bin %> list --status failed -q | <%= config.bin %> requeue -',
  ]
  static override enableJsonFlag = LIST.json
  static override flags = oclifFlags(LIST.flags)

  async run(): Promise<Task[]> {
    const { flags } = await this.parse(List)
    return listAction(this.io(), flags)
  }
}
