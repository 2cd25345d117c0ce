import fs from 'node:fs'

type Handler = () => void

/** How soon a watch that failed (no -wal file yet, or it was replaced) is tried again. */
const REARM_MS = 500
/** How long after the last event of a commit its handlers are called again. */
const TRAILING_MS = 100

/**
 * Every commit in WAL mode, by any process, writes the `-wal` file; fs.watch sees it within a ms or two, free while
 * idle. A hint only (Backend.hears): handlers re-read, and keep a slow poll for filesystems fs.watch cannot see.
 */
export class WalWatcher {
  private watcher: fs.FSWatcher | undefined
  private rearm: NodeJS.Timeout | undefined
  private trailing: NodeJS.Timeout | undefined
  private readonly handlers = new Set<Handler>()

  constructor(private readonly walFile: string) {}

  get watching(): boolean {
    return this.watcher !== undefined
  }

  listen(handler: Handler): () => void {
    this.handlers.add(handler)
    if (this.handlers.size === 1) this.arm()
    return () => {
      this.handlers.delete(handler)
      if (this.handlers.size === 0) this.close()
    }
  }

  private notify(): void {
    for (const handler of this.handlers) handler()
  }

  private arm(): void {
    this.rearm = undefined
    if (this.handlers.size === 0) return
    try {
      const watcher = fs.watch(this.walFile, { persistent: false }, (event) => {
        this.notify()
        // And once more after the writes stop: the event comes with the WAL frame, before the writer
        // has published the commit in the -shm index, so a reader woken at once can still read the
        // snapshot before it (a writer descheduled between the two, on a loaded machine).
        clearTimeout(this.trailing)
        this.trailing = setTimeout(() => this.notify(), TRAILING_MS)
        this.trailing.unref()
        // The file was removed or replaced (the last connection closed, a checkpoint truncated it on
        // some platforms): watch whatever file has that name now.
        if (event === 'rename') this.restart()
      })
      watcher.on('error', () => this.restart())
      this.watcher = watcher
    } catch {
      this.restart()
    }
  }

  private restart(): void {
    this.watcher?.close()
    this.watcher = undefined
    if (this.rearm || this.handlers.size === 0) return
    this.rearm = setTimeout(() => this.arm(), REARM_MS)
    this.rearm.unref()
  }

  close(): void {
    clearTimeout(this.trailing)
    clearTimeout(this.rearm)
    this.rearm = undefined
    this.watcher?.close()
    this.watcher = undefined
  }
}
