import { parseDuration, parseRetention } from '../src/config.js'
import { TaskEndedBadlyError, UsageError } from '../src/errors.js'
import { boundHeapGrowth, collectWhenIdle } from '../src/worker/heap-growth.js'
import { bufferedLog } from '../src/worker/log.js'
import { waitForDatabase } from '../src/worker/wait-for-database.js'
import { Worker } from '../src/worker/worker.js'
import { command } from './actions/io.js'
import { WORKER } from './flags.js'

/** --timeout and --grace: durations (10m, 90s) or, as the SPEC's `--timeout SECONDS`, a number of seconds. */
const SECONDS = { plainSeconds: true }
/** Task processes a worker may keep: each is a Node process (~45 MB) and a watchdog. */
const MAX_TASK_PROCESSES = 256

export default command(WORKER, {
  summary: 'Run tasks until stopped (SIGINT/SIGTERM), or until none is left with --burst',
  examples: [
    '<%= config.bin %> worker --concurrency 4',
    '<%= config.bin %> worker --burst --quiet      # from cron: run what is queued, then exit; print only errors',
    '<%= config.bin %> worker --queue emails,reports --timeout 10m',
  ],
  async run(io, { flags }) {
    const queues = flags.queue
      .split(',')
      .map((q) => q.trim())
      .filter(Boolean)
    if (queues.length === 0) throw new UsageError('--queue names no queue')
    // This process is the worker's alone: its memory must stay flat however many tasks it runs.
    boundHeapGrowth()
    const settings = {
      taskTimeout: flags.timeout === undefined ? undefined : parseDuration(flags.timeout, '--timeout', SECONDS) / 1000,
      retention: flags.retention === undefined ? undefined : parseRetention(flags.retention, '--retention'),
      tasksPerProcess: flags['tasks-per-process'],
    }
    const { tasksPerProcess } = await io.resolveSettings(flags, settings)
    if (Math.ceil(flags.concurrency / tasksPerProcess) > MAX_TASK_PROCESSES)
      throw new UsageError(
        `--concurrency ${flags.concurrency} would start ${Math.ceil(flags.concurrency / tasksPerProcess)} task processes (at most ${MAX_TASK_PROCESSES}): lower it, or raise --tasks-per-process (now ${tasksPerProcess})`,
      )
    const graceSeconds = parseDuration(flags.grace, '--grace', SECONDS) / 1000
    const level = flags.quiet ? 'error' : flags['log-level']
    const log = bufferedLog((text) => process.stdout.write(text), { level, format: flags['log-format'] })
    // Handled from here on: a stop while the worker starts (or waits for its database) exits 0, as later.
    let worker: Worker | undefined
    const stopBeforeStart = new AbortController()
    let signals = 0
    const onSignal = (signal: NodeJS.Signals) => {
      signals++
      if (!worker) {
        log(`${signal}: stopping before the first claim`)
        stopBeforeStart.abort()
      } else if (signals === 1) {
        log(`${signal}: finishing running tasks (again to stop at once)`)
        worker.stop()
      } else worker.stopNow()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      await openAndRun()
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }

    async function openAndRun(): Promise<void> {
      const open = () => io.openQueue(flags, settings, { create: true })
      // A burst (cron) runs what is there now: an unreachable database is its failure, not a wait.
      const queue = flags.burst ? await open() : await waitForDatabase(open, log, stopBeforeStart.signal)
      if (!queue || stopBeforeStart.signal.aborted) return
      // Burst only (a worker until stopped keeps nothing per task): whether each task's last run completed,
      // so a failure retried into a success is a success and one whose retry waits beyond the burst is not.
      const verdicts = new Map<string, boolean>()
      worker = new Worker(queue.backend, queue.settings, {
        concurrency: flags.concurrency,
        queues,
        burst: flags.burst,
        graceSeconds,
        maxMemoryMb: flags['max-memory'],
        maxTasksPerProcess: flags['max-tasks-per-process'],
        log,
        onVerdict: flags.burst
          ? (id, outcome) => {
              // Given back at a stop: not the task's failure.
              if ('givenBack' in outcome) verdicts.delete(id)
              else verdicts.set(id, outcome.status === 'completed')
            }
          : undefined,
      })
      const running = worker
      const stopCollecting = collectWhenIdle(() => running.tasksDone)
      try {
        await running.run()
      } finally {
        stopCollecting()
      }
      if (flags.burst) {
        const failed = [...verdicts.values()].filter((completed) => !completed).length
        if (failed > 0)
          throw new TaskEndedBadlyError(`${failed} of the ${verdicts.size} task(s) this burst ran did not complete`)
      }
    }
  },
})
