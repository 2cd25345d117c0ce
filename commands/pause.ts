import type { QueueState } from '../src/queue/pause.js'
import { BaseCommand, oclifArgs } from './base.js'
import { PAUSE } from './flags.js'

export default class Pause extends BaseCommand {
  static override summary = 'Pause a queue: workers claim none of its tasks until it is resumed'
  static override description =
    'Takes effect within a second; tasks already running finish, and tasks a worker had claimed ahead (at most ~250 ms of work) still run. Enqueueing into a paused queue still works. Pausing a paused queue changes nothing.'
  static override examples = ['<%= config.bin %> pause emails', '<%= config.bin %> pause emails --json']
  static override enableJsonFlag = PAUSE.json
  static override args = oclifArgs(PAUSE.args)

  async run(): Promise<QueueState> {
    const { args, flags } = await this.parse(Pause)
    const state = await (await this.openQueue(flags)).pause(args.queue)
    if (!this.jsonEnabled()) this.log(`paused queue ${state.queue} (since ${state.paused_at})`)
    return state
  }
}
