import { UsageError } from '../errors.js'
import type { Backend } from '../storage/backend.js'
import type { BulkWriter } from '../storage/bulk-insert.js'
import type { NewTask } from '../storage/task-repository.js'
import type { EnqueueOptions } from './new-task.js'

/** Items a bulk enqueue checks between two turns of the event loop while its first chunk is written. */
const PREPARED_PER_TURN = 1000

/** A promise settled from outside; a rejection nobody awaits is not reported as unhandled. */
function settledLater(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve!: () => void
  let reject!: (error: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/** See Queue.enqueueMany. `writer`: an app's transaction to write in (storage/executor.ts). */
export async function enqueueMany(
  storage: () => Promise<Backend>,
  prepare: (o: EnqueueOptions) => NewTask,
  items: readonly EnqueueOptions[],
  o: { chunkSize?: number; label?: (index: number) => string; writer?: () => Promise<BulkWriter> } = {},
): Promise<{ id: string; created: boolean }[]> {
  const label = o.label ?? ((i: number) => `tasks[${i}]`)
  const chunkSize = o.chunkSize ?? 10_000
  if (!Number.isInteger(chunkSize) || chunkSize < 1)
    throw new UsageError(`chunk size must be a whole number ≥ 1, got ${chunkSize}`)
  const rows: NewTask[] = []
  const prepareUpTo = (end: number) => {
    for (let i = rows.length; i < end; i++) {
      try {
        rows.push(prepare(items[i]!))
      } catch (error) {
        if (error instanceof Error) error.message = `${label(i)}: ${error.message}`
        throw error
      }
    }
  }
  prepareUpTo(Math.min(chunkSize, items.length))
  const [{ insertTasks }, backend] = await Promise.all([import('../storage/bulk-insert.js'), storage()])
  const writer = o.writer ? await o.writer() : backend
  // Where an open transaction blocks no other writer, the first chunk is written while the rest are checked,
  // committed once all pass; not in an app's transaction, which one bad item must leave untouched.
  const ahead = !o.writer && backend.concurrentWriters && items.length > chunkSize
  const checked = settledLater()
  const first = ahead ? insertTasks(writer, rows.slice(), checked.promise) : undefined
  first?.catch(() => {}) // awaited below; a failure meanwhile is not an unhandled rejection
  try {
    while (rows.length < items.length) {
      prepareUpTo(Math.min(rows.length + PREPARED_PER_TURN, items.length))
      if (ahead) await new Promise(setImmediate)
    }
  } catch (error) {
    checked.reject(error)
    await first?.catch(() => {})
    throw error
  }
  checked.resolve()
  const results = first ? await first : []
  for (let i = results.length; i < rows.length; i += chunkSize)
    results.push(...(await insertTasks(writer, rows.slice(i, i + chunkSize))))
  return results
}
