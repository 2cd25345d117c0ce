import { parseDuration } from '../src/config.js'
import { escapeControl } from '../src/display-text.js'
import { UsageError } from '../src/errors.js'
import { isStatus, type Status } from '../src/types.js'
import { command } from './actions/io.js'
import { LIST } from './flags.js'

export default command(LIST, {
  summary: 'List tasks, newest first',
  examples: [
    '<%= config.bin %> list --status failed --since 1h',
    "<%= config.bin %> list --task 'reports/*' --search timeout --json",
    '<%= config.bin %> list --status failed -q | <%= config.bin %> requeue -',
  ],
  async run(io, { flags }) {
    const statuses = parseStatuses(flags.status)
    const since = flags.since === undefined ? undefined : sinceToIso(flags.since)
    const queue = await io.openQueue(flags)
    // One more than asked for says whether the limit cut the list.
    const found = await queue.list({
      statuses,
      taskPattern: flags.task,
      search: flags.search,
      since,
      limit: flags.limit + 1,
    })
    const tasks = found.slice(0, flags.limit)
    // -q: one id per line, none when none match (`| wc -l` counts). Escaped: SQLite's ids are any writer's text.
    if (flags.quiet && !io.json) for (const task of tasks) io.log(escapeControl(task.id, false))
    // The table's code loads only for a table: --json and -q need none of it.
    else if (!io.json) io.log(await (await import('../ui/tables.js')).renderTaskTable(tasks))
    // On stderr, so stdout (the table, the ids, the JSON array SPEC fixes) stays what scripts parse.
    if (found.length > flags.limit)
      process.stderr.write(`(the ${flags.limit} most recent shown; more match: raise --limit to see them)\n`)
    return tasks
  },
})

/** --status: a comma-separated list of statuses; a UsageError for an unknown one. */
export function parseStatuses(text: string | undefined): Status[] | undefined {
  if (text === undefined) return undefined
  const parts = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
  const bad = parts.find((s) => !isStatus(s))
  if (bad !== undefined || parts.length === 0)
    throw new UsageError(
      `--status: unknown status "${bad ?? text}" (use queued, progress, completed, failed or cancelled)`,
    )
  return parts as Status[]
}

function sinceToIso(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const time = new Date(text)
    if (Number.isNaN(time.getTime())) throw new UsageError(`--since: "${text}" is not a valid time`)
    return time.toISOString()
  }
  return new Date(Date.now() - parseDuration(text, '--since')).toISOString()
}
