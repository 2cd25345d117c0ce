import { setTimeout as sleep } from 'node:timers/promises'
import { NotFoundError } from '../errors.js'
import type { Connection } from '../storage/backend.js'
import * as tasks from '../storage/task-repository.js'
import { isTerminal, type Status, type Task } from '../types.js'

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
  const pollMs = o.pollMs ?? 100
  /** The run followed (its claim): a new one streams from its start. */
  let claim = -1
  let printed = 0
  let lastSeq = 0
  for (;;) {
    // Only the state each poll, and only the chunks since the last one: following a long stream
    // costs its new output, not all of it again.
    const state = await tasks.getTaskState(connection, id)
    if (!state) throw new NotFoundError(`task ${id} was deleted while it was followed`)
    o.onStatus?.(state.status)
    if (state.claims !== claim) {
      claim = state.claims
      printed = 0
      lastSeq = 0
    }
    if (state.status === 'progress') {
      const fresh = await tasks.readChunks(connection, id, claim, lastSeq)
      lastSeq = fresh.lastSeq
      if (fresh.output) {
        onOutput(fresh.output)
        printed += fresh.output.length
      }
    } else if (state.status !== 'queued') {
      const task = await tasks.getTask(connection, id)
      if (!task) throw new NotFoundError(`task ${id} was deleted while it was followed`)
      // A retry may have started between the two reads; then its run is followed from its start.
      if (isTerminal(task.status) && (await tasks.getTaskState(connection, id))?.claims === claim) {
        const rest = (task.output ?? '').slice(printed)
        if (rest) onOutput(rest)
        return task
      }
    }
    await sleep(pollMs, undefined, { signal: o.signal })
  }
}
