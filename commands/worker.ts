import { workerAction } from './actions/worker.js'
import { BaseCommand, oclifFlags } from './base.js'
import { WORKER } from './flags.js'

export default class WorkerCommand extends BaseCommand {
  static override summary = 'Run tasks until stopped (SIGINT/SIGTERM), or until none is left with --burst'
  static override examples = [
    '<%= config.bin %> worker --concurrency 4',
    '<%= config.bin %> worker --burst --quiet      # from cron: run what is queued, then exit; print only errors',
    '<%= config.bin %> worker --queue emails,reports --timeout 10m',
  ]
  static override flags = oclifFlags(WORKER.flags)

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand)
    await workerAction(this.io(), flags)
  }
}
