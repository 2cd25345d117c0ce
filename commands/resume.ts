import { command } from './actions/io.js'
import { RESUME } from './flags.js'

export default command(RESUME, {
  summary: 'Resume a paused queue: idle workers claim its tasks at once',
  examples: ['<%= config.bin %> resume emails', '<%= config.bin %> resume emails --json'],
  async run(io, { args, flags }) {
    const state = await (await io.openQueue(flags)).resume(args.queue)
    if (!io.json) io.log(`resumed queue ${state.queue}`)
    return state
  },
})
