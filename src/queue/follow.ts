import { setTimeout as sleep } from 'node:timers/promises'
import { NotFoundError } from '../errors.js'
import type { Connection } from '../storage/backend.js'
import * as tasks from '../storage/task-repository.js'
import { type FollowCursor, followStep } from '../follow.js'
import type { Status, Task } from '../types.js'

export interface FollowOptions {
  pollMs?: number
  signal?: AbortSignal
  onStatus?: (status: Status) => void
}

/** See Queue.follow; `id` is a full id. */
export async function followTask(
  connection: Connection,
  id: string,
  onOutput: (text: string) => void,
  o: FollowOptions = {},
): Promise<Task> {
  const gone = () => new NotFoundError(`task ${id} was deleted while it was followed`)
  let cursor: FollowCursor | null = null
  for (;;) {
    const step = await followStep(connection, id, cursor)
    if (!step) throw gone()
    o.onStatus?.(step.head.status)
    if (step.text) onOutput(step.text)
    if (step.ended) return (await tasks.getTask(connection, id)) ?? Promise.reject(gone())
    cursor = step.cursor
    if (!step.more) await sleep(o.pollMs ?? 100, undefined, { signal: o.signal })
  }
}
