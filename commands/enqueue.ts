import { parseDuration } from '../src/config.js'
import { escapeControl } from '../src/display-text.js'
import { UsageError } from '../src/errors.js'
import { parseCliArgs } from '../src/queue/args.js'
import { keyFromTemplate, parseJsonl } from '../src/queue/jsonl.js'
import { waitForEnd } from '../src/queue/wait.js'
import type { Queue } from '../src/queue/queue.js'
import { readInput } from '../src/read-limited.js'
import type { Status } from '../src/types.js'
import { formatDuration } from '../ui/format.js'
import { type CommandIO, command, completedOrExit } from './actions/io.js'
import { ENQUEUE, type Parsed } from './flags.js'

type EnqueueFlags = Parsed<typeof ENQUEUE>['flags']

/** Bytes of `--jsonl` read at most (each line is also held to maxArgsSize). */
const MAX_JSONL_BYTES = 256 * 1024 * 1024

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
    const timeoutMs = waitTimeout === undefined ? undefined : parseDuration(waitTimeout, '--wait-timeout')
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
    return completedOrExit(io, await waitForTask(io, queue, id, flags, timeoutMs))
  },
})

/** How long `--wait` lets a task sit with no live worker for its queue before saying so a second time. */
const NO_WORKER_REMINDER_MS = 15_000

/**
 * `--wait`: follows the task to its end, never leaving a script hanging silently. On stderr: the id, and a
 * warning (repeated once) while no live worker serves its queue; at --wait-timeout or Ctrl-C, a WaitStoppedError.
 */
async function waitForTask(io: CommandIO, queue: Queue, id: string, flags: EnqueueFlags, timeoutMs?: number) {
  // Ctrl-C is ours before the "waiting" line: a SIGINT after it must not find Node's default and kill us silently.
  const interrupt = new AbortController()
  const onInterrupt = () => interrupt.abort()
  process.on('SIGINT', onInterrupt)
  const say = (text: string) => process.stderr.write(`${text}\n`)
  say(`waiting for task ${id}`)
  let status: Status = 'queued'
  let reminder: NodeJS.Timeout | undefined
  // Whether a worker serves the queue is a warning, never a reason to fail: an error here is ignored.
  let over = false
  const unserved = async () =>
    status === 'queued' && (await queue.workersServing(flags.queue).catch(() => 1)) === 0 && !over
  const where = `queue "${flags.queue}"`
  void unserved().then((none) => {
    if (!none) return
    say(`warning: no live worker takes tasks from ${where}: task ${id} stays queued until one starts`)
    if (over) return
    reminder = setTimeout(async () => {
      if (await unserved())
        say(`warning: still no live worker for ${where} after ${formatDuration(NO_WORKER_REMINDER_MS)}`)
    }, NO_WORKER_REMINDER_MS)
  })
  let endsLine = true
  try {
    const task = await waitForEnd(queue, id, {
      onOutput: (text) => {
        if (io.json || text === '') return
        process.stdout.write(escapeControl(text))
        endsLine = text.endsWith('\n')
      },
      signal: interrupt.signal,
      timeout: timeoutMs,
      timeoutText: `${flags['wait-timeout']} (--wait-timeout)`,
      onStatus: (s) => (status = s),
    })
    // The shell prompt (or the next line of a cron mail) starts on a line of its own.
    if (!endsLine) process.stdout.write('\n')
    return task
  } finally {
    over = true
    process.off('SIGINT', onInterrupt)
    clearTimeout(reminder)
  }
}

/** `--jsonl FILE|-`: one task per line, its args the line's object, every line checked before any is written. */
async function enqueueBatch(io: CommandIO, task: string, flags: EnqueueFlags, jsonl: string) {
  await io.resolveSettings(flags)
  const source = jsonl === '-' ? 'stdin' : jsonl
  const text = await readInput(jsonl, {
    stdin: () => process.stdin,
    maxBytes: MAX_JSONL_BYTES,
    flag: '--jsonl',
    over: `--jsonl ${source} is over ${MAX_JSONL_BYTES} bytes: split it`,
  })
  const items = parseJsonl(text, source)
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
  const delaySeconds = flags.delay === undefined ? undefined : parseDuration(flags.delay, '--delay') / 1000
  const at = flags.at === undefined ? undefined : new Date(flags.at)
  if (at && Number.isNaN(at.getTime()))
    throw new UsageError(`--at must be an ISO 8601 time like 2026-12-01T09:00:00Z, got "${flags.at}"`)
  return { delaySeconds, at, priority: flags.priority, queue: flags.queue, maxAttempts: flags['max-attempts'] }
}
