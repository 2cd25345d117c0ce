/**
 * Pickup latency and memory of an idle worker, the same way for sq and for each peer: start a worker,
 * let it take one task (the first pays for lazy start-up), read its idle memory, then enqueue one task
 * at a time into the idle queue and take each one's creation → start from the system's own record;
 * then run a load of tasks through the same process and read its memory again, SETTLE_MS after the load.
 */
import { rssMb, sleep } from './process.js'

/** How long after its load a worker's memory is read. */
const SETTLE_MS = 2000

export interface IdleTarget {
  /** Starts a worker process at concurrency c on a fresh store; resolves with its pid. Called once. */
  start(c: number): Promise<number>
  /** Enqueues one task, waits for it to end; ms from its creation to its start, by its record. */
  pickup(): Promise<number>
  /** Enqueues n tasks and waits until all have ended. */
  load(n: number): Promise<void>
  /** Stops the worker and drops the store. */
  stop(): Promise<void>
}

export interface IdleFigures {
  /** Sorted. */
  pickups: number[]
  idleRssMb: number
  loadedRssMb: number
}

export async function measureIdle(
  target: IdleTarget,
  o: { concurrency: number; samples: number; load: number },
): Promise<IdleFigures> {
  const pid = await target.start(o.concurrency)
  try {
    await target.pickup()
    await sleep(500)
    const idleRssMb = rssMb(pid)
    const pickups: number[] = []
    for (let i = 0; i < o.samples; i++) {
      await sleep(20 + Math.random() * 30) // let the worker go back to waiting
      pickups.push(await target.pickup())
    }
    await target.load(o.load)
    // Memory at rest after the load, not while its last garbage waits for a collection: the same wait
    // for every queue.
    await sleep(SETTLE_MS)
    const loadedRssMb = rssMb(pid)
    return { pickups: pickups.sort((a, b) => a - b), idleRssMb, loadedRssMb }
  } finally {
    await target.stop()
  }
}
