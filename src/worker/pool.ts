import { TaskProcess, type TaskProcessOptions } from './task-process.js'

/**
 * Task processes kept warm between runs: starting Node costs ~100 ms, handing a run to a live child
 * a fraction of a millisecond. A process that a run killed (timeout, cancel, crash) is dropped and a
 * fresh one takes its place on the next acquire.
 */
export class ProcessPool {
  private idle: TaskProcess[] = []
  private readonly all = new Set<TaskProcess>()
  /**
   * Runs after which a task process is replaced (--max-tasks-per-process). A process keeps the modules
   * it has imported, edits and leaks included; Celery's max_tasks_per_child.
   */
  private readonly maxRuns: number

  constructor(private readonly options: TaskProcessOptions & { maxTasksPerProcess?: number }) {
    this.maxRuns = options.maxTasksPerProcess ?? Infinity
  }

  prewarm(count: number): void {
    for (let i = this.idle.length; i < count; i++) this.idle.push(this.spawn())
  }

  async acquire(): Promise<TaskProcess> {
    for (let failures = 0; ; ) {
      const proc = this.idle.pop() ?? this.spawn()
      try {
        await proc.ready
      } catch (error) {
        this.all.delete(proc)
        // A process that cannot even start (bad Node options, no memory) will not start on a retry.
        if (++failures >= 3) throw error
        continue
      }
      if (proc.healthy) return proc
      this.all.delete(proc)
    }
  }

  /** How many more runs the process may be handed before it is retired. */
  room(proc: TaskProcess): number {
    return this.maxRuns - proc.runs
  }

  release(proc: TaskProcess): void {
    if (!proc.healthy || proc.busy) {
      this.all.delete(proc)
    } else if (proc.runs >= this.maxRuns) {
      // Retired: a fresh process starts now, so the next run does not wait for one.
      proc.kill('stop', 0)
      this.all.delete(proc)
      this.idle.push(this.spawn())
    } else {
      this.idle.push(proc)
    }
  }

  /** Kills every process (idle ones at once; busy ones are the worker's to stop first). */
  dispose(): void {
    for (const proc of this.all) proc.kill('stop', 0)
    this.idle = []
    this.all.clear()
  }

  private spawn(): TaskProcess {
    const proc = new TaskProcess(this.options)
    this.all.add(proc)
    return proc
  }
}
