import { Flags } from '@oclif/core'
import { parseDuration } from '../src/config.js'
import { UsageError } from '../src/errors.js'
import type { Task } from '../src/types.js'
import { renderTaskTable } from '../ui/render-text.js'
import { BaseCommand } from './base.js'

export default class List extends BaseCommand {
  static override summary = 'List tasks, newest first'
  static override examples = [
    '<%= config.bin %> list --status failed --since 1h',
    "<%= config.bin %> list --task 'reports/*' --search timeout --json",
    '<%= config.bin %> list --status failed -q | <%= config.bin %> requeue -',
  ]
  static override enableJsonFlag = true
  static override flags = {
    status: Flags.string({ description: 'only these statuses, comma-separated (queued, progress, completed, failed, cancelled)', helpValue: 'S[,S…]' }),
    task: Flags.string({
      description: 'task reference: with * or ? a glob anchored at both ends (hel* matches hello#x, not tasks/hello#x; * crosses / and #), else a substring; ignores case',
      helpValue: 'PATTERN',
    }),
    search: Flags.string({ description: 'text to find in the id, task or output', helpValue: 'TEXT' }),
    since: Flags.string({ description: 'only tasks modified since: a duration ago (1h, 2d) or an ISO time', helpValue: 'WHEN' }),
    limit: Flags.integer({ description: 'most tasks to show (a note on stderr says when more match)', default: 50, min: 1 }),
    quiet: Flags.boolean({ char: 'q', description: 'print ids only, one per line', default: false }),
  }

  async run(): Promise<Task[]> {
    const { flags } = await this.parse(List)
    const statuses = this.parseStatuses(flags.status)
    const since = flags.since === undefined ? undefined : sinceToIso(flags.since)
    const queue = await this.openQueue(flags)
    // One more than asked for says whether the limit cut the list.
    const found = await queue.list({ statuses, taskPattern: flags.task, search: flags.search, since, limit: flags.limit + 1 })
    const tasks = found.slice(0, flags.limit)
    if (!this.jsonEnabled()) this.log(flags.quiet ? tasks.map((t) => t.id).join('\n') : renderTaskTable(tasks))
    // On stderr, so stdout (the table, the ids, the JSON array SPEC fixes) stays what scripts parse.
    if (found.length > flags.limit) process.stderr.write(`(the ${flags.limit} most recent shown; more match: raise --limit to see them)\n`)
    return tasks
  }
}

function sinceToIso(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = new Date(text)
    if (Number.isNaN(time.getTime())) throw new UsageError(`--since: "${text}" is not a valid time`)
    return time.toISOString()
  }
  return new Date(Date.now() - parseDuration(text, '--since')).toISOString()
}
