import { Queue } from './queue/queue.js'

let shared: Promise<Queue> | undefined

/** The queue `createTask` uses when given none, opened on first use. */
export function sharedQueue(): Promise<Queue> {
  return (shared ??= Queue.open().catch((error) => {
    shared = undefined
    throw error
  }))
}

/** Closes the queue `createTask` opened, so a script can exit. */
export async function closeQueue(): Promise<void> {
  const q = shared
  shared = undefined
  if (q) await (await q).close()
}
