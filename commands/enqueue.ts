import fs from 'node:fs'
import { parseDuration } from '../src/config.js'
import { escapeControl } from '../src/display-text.js'
import { UsageError } from '../src/errors.js'
import { parseCliArgs } from '../src/queue/args.js'
import { keyFromTemplate, parseJsonl } from '../src/queue/jsonl.js'
import { readLimited } from '../src/read-limited.js'
import { type CommandIO, command } from './actions/io.js'
import { completedOrExit } from './actions/task-ended.js'
import { waitForTask } from './actions/wait.js'
import type { Parsed } from './flag-table.js'
import { ENQUEUE } from './flags.js'

type EnqueueFlags = Parsed<typeof ENQUEUE>['flags']

/** Bytes of `--jsonl` read at most (each line is also held to maxArgsSize). */
const MAX_JSONL_BYTES = 256 * 1024 * 1024

/** `sq enqueue TASK`: one task; prints its id (or record), or follows it with --wait. */
export default command(ENQUEUE, {
  summary: 'Add a task to the queue and print its id',
  examples: [
    `<%= config.bin %> enqueue tasks/email#send --args '{"to":"a@example.com"}'`,
    '<%= config.bin %> enqueue tasks/report#build --arg day=2026-11-29 --key daily --wait',
    'id=$(<%= config.bin %> enqueue tasks/cleanup --delay 10m)',
    "<%= config.bin %> enqueue tasks/email#send --jsonl recipients.jsonl --key 'welcome-{to}'",
  ],
  async run(io, { args, flags }) {
    if (flags.jsonl !== undefined) return enqueueBatch(io, args.task, flags, flags.jsonl)
    const waitTimeout = flags['wait-timeout']
    if (waitTimeout !== undefined && !flags.wait) throw new UsageError('--wait-timeout needs --wait')
    const timeout =
      waitTimeout === undefined ? undefined : { ms: parseDuration(waitTimeout, '--wait-timeout'), text: waitTimeout }
    const settings = await io.resolveSettings(flags)
    const taskArgs = await parseCliArgs(flags.args, flags.arg, {
      stdin: () => process.stdin,
      maxArgsSize: settings.maxArgsSize,
    })
    const options = { task: args.task, args: taskArgs, key: flags.key, ...taskOptions(flags) }
    const queue = await io.openQueue(flags, {}, { create: true })
    const { id } = await queue.enqueue(options)
    if (!flags.wait) {
      // Only --json prints the record: a plain enqueue does not read its task back.
      if (!io.json) io.log(id)
      return io.json ? queue.get(id) : undefined
    }
    let endsLine = true
    const task = await waitForTask(
      queue,
      { id, queue: flags.queue },
      (text) => {
        if (io.json || text === '') return
        process.stdout.write(escapeControl(text))
        endsLine = text.endsWith('\n')
      },
      { timeout },
    )
    // The shell prompt (or the next line of a cron mail) starts on a line of its own.
    if (!endsLine) process.stdout.write('\n')
    return completedOrExit(io, task)
  },
})

/**
 * `sq enqueue TASK --jsonl FILE|-`: one task per line, its args the line's object. Every line is
 * checked before anything is written; prints the ids in the order of the lines.
 */
async function enqueueBatch(io: CommandIO, task: string, flags: EnqueueFlags, jsonl: string) {
  await io.resolveSettings(flags)
  const source = jsonl === '-' ? 'stdin' : jsonl
  let read: { text: string; over: boolean }
  try {
    read = await readLimited(jsonl === '-' ? process.stdin : fs.createReadStream(jsonl), MAX_JSONL_BYTES)
  } catch (error) {
    throw new UsageError(
      `--jsonl: cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    )
  }
  if (read.over) throw new UsageError(`--jsonl ${source} is over ${MAX_JSONL_BYTES} bytes: split it`)
  const items = parseJsonl(read.text, source)
  const shared = taskOptions(flags)
  const options = items.map((item) => ({
    task,
    args: item.args,
    key: flags.key === undefined ? undefined : keyFromTemplate(flags.key, item, source),
    ...shared,
  }))
  const queue = await io.openQueue(flags, {}, { create: true })
  const results = await queue.enqueueMany(options, { label: (i) => `--jsonl ${source} line ${items[i]!.line}` })
  // With --json, each line's task: the one it enqueued, or the one holding its key.
  const lines = results.map((r, i) => ({ line: items[i]!.line, id: r.id, created: r.created }))
  if (!io.json && lines.length > 0) io.log(lines.map((l) => l.id).join('\n'))
  return lines
}

/** What every task of one `sq enqueue` gets from its flags, besides its args and key. */
function taskOptions(flags: EnqueueFlags) {
  return {
    delaySeconds: flags.delay === undefined ? undefined : parseDuration(flags.delay, '--delay') / 1000,
    at: parseAt(flags.at),
    priority: flags.priority,
    queue: flags.queue,
    maxAttempts: flags['max-attempts'],
  }
}

function parseAt(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const at = new Date(text)
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`--at must be an ISO 8601 time like 2026-12-01T09:00:00Z, got "${text}"`)
  return at
}
