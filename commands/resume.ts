import { Args } from '@oclif/core'
import type { QueueState } from '../src/queue/pause.js'
import { BaseCommand } from './base.js'

export default class Resume extends BaseCommand {
  static override summary = 'Resume a paused queue: idle workers claim its tasks at once'
  static override examples = ['<%= config.bin %> resume emails', '<%= config.bin %> resume emails --json']
  static override enableJsonFlag = true
  static override args = { queue: Args.string({ description: 'the queue to resume', required: true }) }

  async run(): Promise<QueueState> {
    const { args, flags } = await this.parse(Resume)
    const state = await (await this.openQueue(flags)).resume(args.queue)
    if (!this.jsonEnabled()) this.log(`resumed queue ${state.queue}`)
    return state
  }
}
