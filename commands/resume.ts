import type { QueueState } from '../src/queue/pause.js'
import { BaseCommand, oclifArgs } from './base.js'
import { RESUME } from './flags.js'

export default class Resume extends BaseCommand {
  static override summary = 'Resume a paused queue: idle workers claim its tasks at once'
  static override examples = ['<%= config.bin %> resume emails', '<%= config.bin %> resume emails --json']
  static override enableJsonFlag = RESUME.json
  static override args = oclifArgs(RESUME.args)

  async run(): Promise<QueueState> {
    const { args, flags } = await this.parse(Resume)
    const state = await (await this.openQueue(flags)).resume(args.queue)
    if (!this.jsonEnabled()) this.log(`resumed queue ${state.queue}`)
    return state
  }
}
