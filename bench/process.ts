/** Small process helpers: waiting, polling, and reading a process's resident memory. */
import fs from 'node:fs'

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Resident memory of one process, not its children (VmRSS of /proc/<pid>/status), in MB. */
export function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!kb) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb[1]) / 1024
}

/** Polls until `done()` holds or the deadline (a Date.now() value) passes; whether it held. */
export async function pollUntil(done: () => Promise<boolean>, deadline: number, everyMs = 20): Promise<boolean> {
  for (;;) {
    if (await done()) return true
    if (Date.now() >= deadline) return false
    await sleep(everyMs)
  }
}

/** Jobs/s of `count` jobs from the first one's start to the last one's end (ms timestamps). */
export function steadyRate(count: number, firstStart: number, lastEnd: number): number {
  if (count < 2 || !(lastEnd > firstStart)) throw new Error(`too few jobs completed to time (${count})`)
  return (count / (lastEnd - firstStart)) * 1000
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
