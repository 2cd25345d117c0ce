import fs from 'node:fs'

/**
 * Polls `fn` until it returns something truthy and returns that; fails after `timeoutMs` with `what`
 * (and the last error `fn` threw, if any). Tests wait for conditions this way instead of sleeping.
 * `what` may be a function, read at the failure, to tell the state the wait ended in.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  timeoutMs: number,
  what: string | (() => string) = 'a condition',
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value as NonNullable<T>
    } catch (error) {
      lastError = error
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : ''
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}${why}`)
    }
    await sleep(intervalMs)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Is a process with this pid alive? A zombie (exited, not yet reaped) counts as dead. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/PID/stat: "pid (comm) S ..." — the state letter follows the last ')'.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Waits until the process is gone. */
export function waitForExit(pid: number, timeoutMs: number, what = `process ${pid} to exit`): Promise<boolean> {
  return waitFor(() => !isAlive(pid), timeoutMs, what)
}

/** Reads a file that another process writes (e.g. a task's pid), once it exists and is not empty. */
export function waitForFile(file: string, timeoutMs: number): Promise<string> {
  return waitFor(() => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : ''), timeoutMs, `file ${file}`)
}
