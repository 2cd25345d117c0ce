import { command } from './actions/io.js'
import { PAUSE } from './flags.js'

export default command(PAUSE, {
  summary: 'Pause a queue: workers claim none of its tasks until it is resumed',
  description:
    'Takes effect within a second; tasks already running finish, and tasks a worker had claimed ahead (at most ~250 ms of work) still run. Enqueueing into a paused queue still works. Pausing a paused queue changes nothing.',
  examples: ['<%= config.bin %> pause emails', '<%= config.bin %> pause emails --json'],
  async run(io, { args, flags }) {
    const state = await (await io.openQueue(flags)).pause(args.queue)
    if (!io.json) io.log(`paused queue ${state.queue} (since ${state.paused_at})`)
    return state
  },
})
