import { Flags } from '@oclif/core'
import { LOG_FORMATS, LOG_LEVELS } from '../src/worker/log.js'
import { workerAction } from './actions/worker.js'
import { BaseCommand } from './base.js'

export default class WorkerCommand extends BaseCommand {
  static override summary = 'Run tasks until stopped (SIGINT/SIGTERM), or until none is left with --burst'
  static override examples = [
    '<%= config.bin %> worker --concurrency 4',
    '<%= config.bin %> worker --burst --quiet      # from cron: run what is queued, then exit; print only errors',
    '<%= config.bin %> worker --queue emails,reports --timeout 10m',
  ]
  static override flags = {
    concurrency: Flags.integer({
      char: 'c',
      description: 'tasks run at once, each in its own process',
      default: 1,
      min: 1,
      max: 256,
    }),
    burst: Flags.boolean({
      description: 'exit once no runnable task is left: 0 if every task it ran completed, 1 if any failed',
      default: false,
    }),
    timeout: Flags.string({
      description:
        'how long a task may run: a duration (10m, 1h30m) or seconds, 0 for no limit [env: SQ_TASK_TIMEOUT; default 1h]',
      helpValue: 'DURATION',
    }),
    queue: Flags.string({ char: 'q', description: 'queues to take tasks from, comma-separated', default: 'default' }),
    grace: Flags.string({
      description: 'how long running tasks get to finish after SIGINT/SIGTERM: a duration (2m) or seconds',
      default: '30s',
      helpValue: 'DURATION',
    }),
    'max-memory': Flags.integer({ description: 'heap limit of each task process, MiB', default: 2048, min: 16 }),
    'max-tasks-per-process': Flags.integer({
      description: 'replace a task process after this many tasks (default: never), for code that leaks or changes',
      min: 1,
    }),
    quiet: Flags.boolean({
      description: 'print errors only (failed tasks, database trouble): nothing when all goes well',
      default: false,
      exclusive: ['log-level'],
    }),
    'log-level': Flags.option({
      description: 'least important lines shown; debug adds the heartbeat',
      options: LOG_LEVELS,
      default: 'info',
    })(),
    'log-format': Flags.option({
      description:
        "text, or json: one JSON object per line {time, level, pid, msg}, with task_id, task, attempt, status, duration_ms, worker on a task's lines",
      options: LOG_FORMATS,
      default: 'text',
    })(),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand)
    await workerAction(this.io(), flags)
  }
}
