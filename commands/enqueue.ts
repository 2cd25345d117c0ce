import { enqueueAction, type BatchLine } from './actions/enqueue.js'
import type { Task } from '../src/types.js'
import { BaseCommand, oclifArgs, oclifFlags } from './base.js'
import { ENQUEUE } from './flags.js'

export default class Enqueue extends BaseCommand {
  static override summary = 'Add a task to the queue and print its id'
  static override examples = [
    `<%= config.bin %> enqueue tasks/email#send --args '{"to":"a@example.com"}'`,
    '<%= config.bin %> enqueue tasks/report#build --arg day=2026-11-29 --key daily --wait',
    'id=$(<%= config.bin %> enqueue tasks/cleanup --delay 10m)',
    "<%= config.bin %> enqueue tasks/email#send --jsonl recipients.jsonl --key 'welcome-{to}'",
  ]
  static override enableJsonFlag = ENQUEUE.json
  static override args = oclifArgs(ENQUEUE.args)
  static override flags = oclifFlags(ENQUEUE.flags)

  async run(): Promise<Task | BatchLine[] | undefined> {
    const { args, flags } = await this.parse(Enqueue)
    return enqueueAction(this.io(), args.task, flags)
  }
}
