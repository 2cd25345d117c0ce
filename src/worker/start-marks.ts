import { redactSecrets } from '../redact.js'
import type { Backend } from '../storage/backend.js'
import { markStarted } from '../storage/run-repository.js'
import type { Run } from './run.js'

/**
 * A run from the local queue still running this long after it started has its start written (in a
 * batch); shorter runs get it with their verdict. The shorter, the smaller the window in which a
 * worker killed at that moment has its run given back as unstarted.
 */
const MARK_AFTER_MS = 5

/**
 * Records, in one statement, the start of the runs claimed ahead that are still running MARK_AFTER_MS
 * after they began: a dead worker's runs that had started must be told from those that had not.
 */
export class StartMarks {
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(
    private readonly backend: Backend,
    private readonly workerId: string,
    /** The running runs whose start is not yet in the database. */
    private readonly unrecorded: () => Run[],
    private readonly log: (line: string) => void,
  ) {}

  /** A run without a recorded start began: mark it (and any others) shortly. */
  schedule(): void {
    if (this.timer || this.stopped) return
    this.timer = setTimeout(() => {
      const due = Date.now() - MARK_AFTER_MS
      const marked = this.unrecorded().filter((r) => r.startedAt <= due)
      for (const r of marked) r.startRecorded = true
      markStarted(
        this.backend,
        this.workerId,
        marked.map((r) => r.ref),
      )
        .catch((error: Error) => {
          for (const r of marked) r.startRecorded = false
          this.log(`could not record the start of ${marked.length} task(s): ${redactSecrets(error.message)}`)
        })
        .finally(() => {
          this.timer = undefined
          if (this.unrecorded().length > 0) this.schedule()
        })
    }, MARK_AFTER_MS)
  }

  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
