import { Args, Flags } from '@oclif/core'
import { enqueueAction, type BatchLine } from './actions/enqueue.js'
import type { Task } from '../src/types.js'
import { BaseCommand } from './base.js'

export default class Enqueue extends BaseCommand {
  static override summary = 'Add a task to the queue and print its id'
  static override examples = [
    `<%= config.bin %> enqueue tasks/email#send --args '{"to":"a@example.com"}'`,
    '<%= config.bin %> enqueue tasks/report#build --arg day=2026-11-29 --key daily --wait',
    'id=$(<%= config.bin %> enqueue tasks/cleanup --delay 10m)',
    "<%= config.bin %> enqueue tasks/email#send --jsonl recipients.jsonl --key 'welcome-{to}'",
  ]
  static override enableJsonFlag = true
  static override args = {
    task: Args.string({
      description: 'task reference: <module>#<export>, module relative to the root',
      required: true,
    }),
  }
  static override flags = {
    args: Flags.string({
      description: "the task's args: a JSON object, @file.json, or - for stdin",
      helpValue: 'JSON',
    }),
    arg: Flags.string({
      description:
        'one arg as key=value (value parsed as JSON when it parses; a number only when it reads back exactly, so 1.10 stays "1.10"); repeatable',
      multiple: true,
      default: [],
    }),
    wait: Flags.boolean({
      description: 'block until the task ends, streaming its output; exit 1 unless it completed',
      default: false,
    }),
    'wait-timeout': Flags.string({
      description: 'with --wait: stop waiting after this long (e.g. 10m), exit 1 and leave the task as it is',
      helpValue: 'DURATION',
    }),
    key: Flags.string({ description: 'while a task with this key is queued or running, print its id and add nothing' }),
    delay: Flags.string({ description: 'do not run before this long from now (e.g. 30s, 10m, 2h)', exclusive: ['at'] }),
    at: Flags.string({ description: 'do not run before this time (ISO 8601)', exclusive: ['delay'] }),
    priority: Flags.integer({ description: 'higher runs first', default: 0 }),
    queue: Flags.string({ description: 'queue name', default: 'default' }),
    'max-attempts': Flags.integer({
      description: 'runs allowed in all; failed runs with attempts left retry with backoff',
      default: 1,
    }),
    jsonl: Flags.string({
      description:
        'enqueue one task per line of FILE (- for stdin), each line a JSON object of args; one bad line refuses all; --key may name args: "report-{day}"',
      helpValue: 'FILE',
      exclusive: ['args', 'arg', 'wait', 'wait-timeout'],
    }),
  }

  async run(): Promise<Task | BatchLine[] | undefined> {
    const { args, flags } = await this.parse(Enqueue)
    return enqueueAction(this.io(), args.task, flags)
  }
}
