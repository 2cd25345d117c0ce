import type { ScheduleInfo } from '../src/queue/schedules.js'
import { renderSchedules } from '../ui/render-schedules.js'
import { BaseCommand } from './base.js'

export default class Schedules extends BaseCommand {
  static override summary = 'List the recurring schedules of sq.config.* with their last and next run'
  static override description =
    'Every running worker fires them; each slot is enqueued once. The last run is the newest slot fired (or skipped by the catch-up policy), read from the database; no worker needs to run.'
  static override examples = ['<%= config.bin %> schedules', "<%= config.bin %> schedules --json | jq '.[].next_run'"]
  static override enableJsonFlag = true

  async run(): Promise<ScheduleInfo[]> {
    const { flags } = await this.parse(Schedules)
    const queue = await this.openQueue(flags)
    const schedules = await queue.schedules()
    if (!this.jsonEnabled()) this.log(await renderSchedules(schedules))
    return schedules
  }
}
