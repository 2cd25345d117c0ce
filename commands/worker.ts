import { Flags } from '@oclif/core'
import { TaskEndedBadlyError, UsageError } from '../src/errors.js'
import { bufferedLog, LOG_FORMATS, LOG_LEVELS, type LogLevel } from '../src/worker/log.js'
import { Worker } from '../src/worker/worker.js'
import { BaseCommand } from './base.js'

export default class WorkerCommand extends BaseCommand {
  static override summary = 'Run tasks until stopped (SIGINT/SIGTERM), or until none is left with --burst'
  static override examples = [
    '<%= config.bin %> worker --concurrency 4',
    '<%= config.bin %> worker --burst --quiet      # from cron: run what is queued, then exit; print only errors',
    '<%= config.bin %> worker --queue emails,reports --timeout 600',
  ]
  static override flags = {
    concurrency: Flags.integer({ char: 'c', description: 'tasks run at once, each in its own process', default: 1, min: 1, max: 256 }),
    burst: Flags.boolean({ description: 'exit once no runnable task is left: 0 if every task it ran completed, 1 if any failed', default: false }),
    timeout: Flags.integer({ description: 'seconds a task may run, 0 for no limit [env: SQ_TASK_TIMEOUT; default 3600]', min: 0 }),
    queue: Flags.string({ char: 'q', description: 'queues to take tasks from, comma-separated', default: 'default' }),
    grace: Flags.integer({ description: 'seconds running tasks get to finish after SIGINT/SIGTERM', default: 30, min: 0 }),
    'max-memory': Flags.integer({ description: 'heap limit of each task process, MiB', default: 2048, min: 16 }),
    'max-tasks-per-process': Flags.integer({
      description: 'replace a task process after this many tasks (default: never), for code that leaks or changes',
      min: 1,
    }),
    quiet: Flags.boolean({ description: 'print errors only (failed tasks, database trouble): nothing when all goes well', default: false, exclusive: ['log-level'] }),
    'log-level': Flags.option({ description: 'least important lines shown; debug adds the heartbeat', options: LOG_LEVELS, default: 'info' })(),
    'log-format': Flags.option({ description: 'text, or json: one JSON object per line {time, level, pid, msg}', options: LOG_FORMATS, default: 'text' })(),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand)
    const queues = flags.queue.split(',').map((q) => q.trim()).filter(Boolean)
    if (queues.length === 0) throw new UsageError('--queue names no queue')
    const queue = await this.openQueue(flags, flags.timeout === undefined ? {} : { taskTimeout: flags.timeout })
    const level: LogLevel = flags.quiet ? 'error' : flags['log-level']
    const log = bufferedLog((text) => process.stdout.write(text), { level, format: flags['log-format'] })
    // Whether the last run of each task this worker ran completed: a failure retried into a success
    // is a success; a failure whose retry waits beyond the burst is not.
    const verdicts = new Map<string, boolean>()
    const worker = new Worker(queue.dialect, queue.settings, {
      concurrency: flags.concurrency,
      queues,
      burst: flags.burst,
      graceSeconds: flags.grace,
      maxMemoryMb: flags['max-memory'],
      maxTasksPerProcess: flags['max-tasks-per-process'],
      log,
      onVerdict: (id, outcome) => {
        // Given back at a stop: not the task's failure.
        if (outcome.givenBack) verdicts.delete(id)
        else verdicts.set(id, outcome.status === 'completed')
      },
    })
    let signals = 0
    const onSignal = (signal: NodeJS.Signals) => {
      signals++
      if (signals === 1) {
        log(`${signal}: finishing running tasks (again to stop at once)`)
        worker.stop()
      } else worker.stopNow()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      await worker.run()
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    if (flags.burst) {
      const failed = [...verdicts.values()].filter((completed) => !completed).length
      if (failed > 0) throw new TaskEndedBadlyError(`${failed} of the ${verdicts.size} task(s) this burst ran did not complete`)
    }
  }
}
