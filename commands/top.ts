import { parseDuration } from '../src/config.js'
import { UsageError } from '../src/errors.js'
import { queueMonitor } from '../src/monitor.js'
import { command } from './actions/io.js'
import { TOP } from './flags.js'

export default command(TOP, {
  summary: 'Live view of the queue: counts, running tasks and their streamed output, failures, workers',
  description:
    'A full-screen terminal UI (keys: ↑/↓ select, Enter pane, l log, Tab: failures/queued/completed list, c cancel, r requeue, / filter, ? help, q quit). ' +
    'It needs a terminal: with stdout or stdin not a TTY it says so and exits 2 (use `sq list` or `sq stats` in scripts). ' +
    'NO_COLOR turns colours off.',
  examples: ['<%= config.bin %> top', '<%= config.bin %> top --db postgres://sq@db.internal/sq --interval 1'],
  async run(io, { flags }) {
    const interval = parseDuration(flags.interval, '--interval', { plainSeconds: true }) / 1000
    if (interval < 0.1 || interval > 10)
      throw new UsageError(`--interval must be from 0.1 to 10 seconds, got "${flags.interval}"`)
    if (!process.stdout.isTTY || !process.stdin.isTTY)
      throw new UsageError(
        'sq top needs a terminal (stdin and stdout must be a TTY); in scripts use sq list or sq show',
      )
    const queue = await io.openQueue(flags)
    // Ink and React load only for this command, not for every `sq` call.
    const { renderTop } = await import('../ui/top/top.js')
    await renderTop({
      source: queueMonitor(queue),
      displayUrl: queue.displayUrl,
      taskTimeout: queue.settings.taskTimeout,
      intervalMs: Math.round(interval * 1000),
      // Off when NO_COLOR is set to anything non-empty (https://no-color.org).
      color: !process.env.NO_COLOR,
    })
  },
})
