import { escapeControl } from '../ui/format.js'
import { renderTaskDetail } from '../ui/render-detail.js'
import { command, completedOrExit } from './actions/io.js'
import { SHOW } from './flags.js'

export default command(SHOW, {
  summary: 'Show every field of a task',
  examples: [
    '<%= config.bin %> show 3f2a9c',
    '<%= config.bin %> show 3f2a9c --follow',
    '<%= config.bin %> show 3f2a9c --json',
  ],
  async run(io, { args, flags }) {
    const queue = await io.openQueue(flags)
    if (!flags.follow) {
      const task = await queue.getWithRuns(args.id)
      if (!io.json) io.log(renderTaskDetail(task))
      return task
    }
    const task = await queue.follow(args.id, (text) => {
      if (!io.json) process.stdout.write(escapeControl(text))
    })
    return completedOrExit(io, task)
  },
})
