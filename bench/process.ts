/** Small process helpers: waiting, polling, and reading a process's resident memory. */
import fs from 'node:fs'

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * `make()` run once, its promise shared — unless it fails (say PostgreSQL restarted under it): then the
 * next caller tries again.
 */
export function onceOk<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined
  return () =>
    (made ??= make().catch((error: unknown) => {
      made = undefined
      throw error
    }))
}

/** Resident memory of one process, not its children (VmRSS of /proc/<pid>/status), in MB. */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!kb) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb[1]) / 1024
}

/**
 * Proportional memory (PSS, /proc/<pid>/smaps_rollup) of a process and all its descendants, in MB, and
 * how many they are: pages shared between them (Node's own code) counted once, split among them.
 */
export function treePss(root: number): { mb: number; processes: number } {
  const children = new Map<number, number[]>()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // gone meanwhile
    }
    // Fields after the command name (which may hold spaces and parentheses): state, ppid, …
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
  }
  let kb = 0
  let processes = 0
  for (const pending = [root]; pending.length > 0; ) {
    const pid = pending.pop()!
    pending.push(...(children.get(pid) ?? []))
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0)
      processes++
    } catch {
      // gone meanwhile
    }
  }
  return { mb: kb / 1024, processes }
}

/** `promise`, or a failure naming `what` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls until `done()` holds or the deadline (a Date.now() value) passes; whether it held. */
export async function pollUntil(done: () => Promise<boolean>, deadline: number, everyMs = 20): Promise<boolean> {
  for (;;) {
    if (await done()) return true
    if (Date.now() >= deadline) return false
    await sleep(everyMs)
  }
}

/** One completed job: when it started and ended (ms), by its system's record. */
export type Span = [start: number, end: number]

/**
 * Steady jobs/s of a run's completed jobs: those started once the first fifth had started, from that
 * moment to the last one's end. The first fifth is the warm-up (a worker's child processes still
 * starting on a busy machine), which would weigh on short runs; jobs started in a batch share a start,
 * so a batch is counted whole or not at all.
 */
export function steadyRate(jobs: Span[]): number {
  const starts = jobs.map(([start]) => start).sort((a, b) => a - b)
  const from = starts[Math.floor(starts.length / 5)]!
  const steady = jobs.filter(([start]) => start >= from)
  const span = Math.max(...steady.map(([, end]) => end)) - from
  if (steady.length < 3 || !(span > 0)) throw new Error(`too few jobs completed to time (${jobs.length})`)
  return (steady.length / span) * 1000
}

/**
 * Lets a worker run over a full queue: waits for its first completed job (start-up is not timed),
 * then until all n are done or runMs have passed.
 */
export async function runFor(completed: () => Promise<number>, n: number, runMs: number, what: string): Promise<void> {
  await waitUntil(async () => (await completed()) > 0, `${what} to complete a first job`, 120_000, 20)
  await pollUntil(async () => (await completed()) >= n, Date.now() + runMs, 100)
}

/**
 * Polls until `done()` holds. Only completion is polled: every figure comes from timestamps the
 * systems record themselves, so the polling interval does not enter any result.
 */
export async function waitUntil(
  done: () => Promise<boolean>,
  what: string,
  timeoutMs = 600_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(everyMs)
  }
}
