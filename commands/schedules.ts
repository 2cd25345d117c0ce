import { renderSchedules } from '../ui/tables.js'
import { command } from './actions/io.js'
import { JSON_ONLY } from './flags.js'

export default command(JSON_ONLY, {
  summary: 'List the recurring schedules of sq.config.* with their last and next run',
  description:
    'Every running worker fires them; each slot is enqueued once. The last run is the newest slot fired (or skipped by the catch-up policy), read from the database; no worker needs to run.',
  examples: ['<%= config.bin %> schedules', "<%= config.bin %> schedules --json | jq '.[].next_run'"],
  async run(io, { flags }) {
    const schedules = await (await io.openQueue(flags)).schedules()
    if (!io.json) io.log(await renderSchedules(schedules))
    return schedules
  },
})
