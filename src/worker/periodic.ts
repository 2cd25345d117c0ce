import { redactSecrets } from '../redact.js'

/**
 * A background duty of the worker: runs `fn` every `ms`, never two at once (`trigger()` runs it once the
 * current one ends); errors go to `onError` and the duty goes on. `stop()` waits for a run in flight.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<unknown> | undefined
  private again = false
  private lastRun = 0
  private soonTimer: NodeJS.Timeout | undefined
  /** Aborted by stop(): a long run (a retention round) ends early rather than hold the stop up. */
  private stopping = new AbortController()

  constructor(
    private readonly ms: number,
    private readonly fn: (stopping: AbortSignal) => Promise<unknown>,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): this {
    this.stopping = new AbortController()
    this.timer = setInterval(() => this.trigger(), this.ms)
    return this
  }

  /**
   * Runs it within `minGapMs` of the last run: for hints that may come thousands of times a second
   * (on SQLite, every commit of any process looks like a possible cancel).
   */
  soon(minGapMs: number): void {
    if (this.soonTimer || !this.timer) return
    const wait = this.lastRun + minGapMs - Date.now()
    if (wait <= 0) {
      this.trigger()
      return
    }
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined
      if (this.timer) this.trigger()
    }, wait)
  }

  trigger(): void {
    if (this.running) {
      this.again = true
      return
    }
    this.lastRun = Date.now()
    this.running = this.fn(this.stopping.signal)
      .catch((error: Error) => this.onError(error))
      .finally(() => {
        this.running = undefined
        if (this.again && this.timer) {
          this.again = false
          this.trigger()
        }
      })
  }

  async stop(): Promise<void> {
    this.stopping.abort()
    clearInterval(this.timer)
    clearTimeout(this.soonTimer)
    this.timer = undefined
    await this.running
  }
}

/**
 * The error handler of a worker's Periodic services. While the database is away every service fails at
 * its own pace (the ownership check 4 times a second): the same error is said once per `everyMs`.
 */
export function sayOnce(log: (line: string) => void, everyMs: number): (error: Error) => void {
  let said = { text: '', at: 0 }
  return (error) => {
    const text = `worker error: ${redactSecrets(error.message)}`
    const now = Date.now()
    if (text === said.text && now - said.at < everyMs) return
    said = { text, at: now }
    log(text)
  }
}
