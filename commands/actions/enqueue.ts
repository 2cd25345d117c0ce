import { parseDuration } from '../../src/config.js'
import { UsageError } from '../../src/errors.js'
import fs from 'node:fs'
import { parseCliArgs } from '../../src/queue/args.js'
import { keyFromTemplate, parseJsonl } from '../../src/queue/jsonl.js'
import { readLimited } from '../../src/read-limited.js'
import { escapeControl } from '../../src/display-text.js'
import type { Task } from '../../src/types.js'
import type { ENQUEUE, ParsedFlags } from '../flags.js'
import type { CommandIO } from './io.js'
import { completedOrExit } from './task-ended.js'
import { waitForTask } from './wait.js'

export type EnqueueFlags = ParsedFlags<typeof ENQUEUE.flags>

/** What `--jsonl --json` prints for each line: the task it enqueued, or the one holding its key. */
export interface BatchLine {
  line: number
  id: string
  created: boolean
}

/** Bytes of `--jsonl` read at most (each line is also held to maxArgsSize). */
const MAX_JSONL_BYTES = 256 * 1024 * 1024

/** `sq enqueue TASK`: one task; prints its id (or record), or follows it with --wait. */
export async function enqueueAction(
  io: CommandIO,
  taskRef: string,
  flags: EnqueueFlags,
): Promise<Task | BatchLine[] | undefined> {
  if (flags.jsonl !== undefined) return enqueueBatch(io, taskRef, flags, flags.jsonl)
  const waitTimeout = flags['wait-timeout']
  if (waitTimeout !== undefined && !flags.wait) throw new UsageError('--wait-timeout needs --wait')
  const timeout =
    waitTimeout === undefined ? undefined : { ms: parseDuration(waitTimeout, '--wait-timeout'), text: waitTimeout }
  const settings = await io.resolveSettings(flags)
  const taskArgs = await parseCliArgs(flags.args, flags.arg, {
    stdin: () => process.stdin,
    maxArgsSize: settings.maxArgsSize,
  })
  const at = parseAt(flags.at)
  const queue = await io.openQueue(flags, {}, { create: true })
  const { id } = await queue.enqueue({
    task: taskRef,
    args: taskArgs,
    key: flags.key,
    delaySeconds: flags.delay === undefined ? undefined : parseDuration(flags.delay, '--delay') / 1000,
    at,
    priority: flags.priority,
    queue: flags.queue,
    maxAttempts: flags['max-attempts'],
  })
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
}

/**
 * `sq enqueue TASK --jsonl FILE|-`: one task per line, its args the line's object. Every line is
 * checked before anything is written; prints the ids in the order of the lines.
 */
async function enqueueBatch(io: CommandIO, taskRef: string, flags: EnqueueFlags, jsonl: string): Promise<BatchLine[]> {
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
  const delaySeconds = flags.delay === undefined ? undefined : parseDuration(flags.delay, '--delay') / 1000
  const at = parseAt(flags.at)
  const options = items.map((item) => ({
    task: taskRef,
    args: item.args,
    key: flags.key === undefined ? undefined : keyFromTemplate(flags.key, item, source),
    delaySeconds,
    at,
    priority: flags.priority,
    queue: flags.queue,
    maxAttempts: flags['max-attempts'],
  }))
  const queue = await io.openQueue(flags, {}, { create: true })
  const results = await queue.enqueueMany(options, { label: (i) => `--jsonl ${source} line ${items[i]!.line}` })
  const lines = results.map((r, i) => ({ line: items[i]!.line, id: r.id, created: r.created }))
  if (!io.json && lines.length > 0) io.log(lines.map((l) => l.id).join('\n'))
  return lines
}

export function parseAt(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const at = new Date(text)
  if (Number.isNaN(at.getTime()))
    throw new UsageError(`--at must be an ISO 8601 time like 2026-12-01T09:00:00Z, got "${text}"`)
  return at
}
