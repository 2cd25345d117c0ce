import { parseDuration } from '../../src/config.js'
import { TaskEndedBadlyError, UsageError } from '../../src/errors.js'
import { parseCliArgs } from '../../src/queue/args.js'
import type { Task } from '../../src/types.js'
import type { CommandIO, SharedFlags } from './io.js'

export interface EnqueueFlags extends SharedFlags {
  args?: string
  arg: string[]
  wait: boolean
  key?: string
  delay?: string
  at?: string
  priority: number
  queue: string
  'max-attempts': number
}

/** `sq enqueue TASK`: one task; prints its id (or record), or follows it with --wait. */
export async function enqueueAction(io: CommandIO, taskRef: string, flags: EnqueueFlags): Promise<Task> {
  const settings = await io.resolveSettings(flags)
  const taskArgs = await parseCliArgs(flags.args, flags.arg, { stdin: () => process.stdin, maxArgsSize: settings.maxArgsSize })
  const at = parseAt(flags.at)
  const queue = await io.openQueue(flags)
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
    if (!io.json) io.log(id)
    return queue.get(id)
  }
  const task = await queue.follow(id, (text) => {
    if (!io.json) process.stdout.write(text)
  })
  if (task.status !== 'completed') {
    if (io.json) io.logJson(task)
    throw new TaskEndedBadlyError(`task ${id} ${task.status}${task.error ? `: ${task.error.split('\n')[0]}` : ''}`)
  }
  return task
}

export function parseAt(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined
  const at = new Date(text)
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO 8601 time like 2026-12-01T09:00:00Z, got "${text}"`)
  return at
}
