import path from 'node:path'
import { ENV_VARS, type EnvSetting, type Settings } from '../config.js'
import { withoutPassword } from '../inherited-database.js'
import { parseDatabaseUrl } from '../storage/open.js'
import { TaskProcess, type TaskProcessOptions } from './task-process.js'

/**
 * Task processes kept warm between runs (starting Node costs ~100 ms), each lent to up to `perProcess` slots
 * at once. A process that a run killed (timeout, cancel, crash) is dropped and a fresh one takes its place
 * on the next acquire.
 */
export class ProcessPool {
  /** Processes with room for another slot, the one most recently given back last. */
  private open: TaskProcess[] = []
  /** Every live process, with the slots it is lent to. */
  private readonly lent = new Map<TaskProcess, number>()

  constructor(
    private readonly options: TaskProcessOptions,
    /** Runs after which a task process is replaced: it keeps its imports, edits and leaks included. */
    private readonly maxRuns = Infinity,
    /** Slots a process serves at once (`--tasks-per-process`); above 1 its runs share it. */
    private readonly perProcess = 1,
  ) {}

  /** Starts the processes `slots` slots need. */
  prewarm(slots: number): void {
    for (let i = this.lent.size; i < Math.ceil(slots / this.perProcess); i++) this.spawn()
  }

  async acquire(): Promise<TaskProcess> {
    for (let failures = 0; ; ) {
      const proc = this.open.at(-1) ?? this.spawn()
      // Taken before the wait, so that no other slot is lent a process with no room left.
      const users = this.lend(proc, 1)
      if (users >= this.perProcess || proc.runs + users >= this.maxRuns) this.open.pop()
      try {
        await proc.ready
      } catch (error) {
        this.drop(proc)
        // A process that cannot even start (bad Node options, no memory) will not start on a retry.
        if (++failures >= 3) throw error
        continue
      }
      if (proc.healthy) return proc
      this.drop(proc)
    }
  }

  /** How many more runs the process may be handed before it is retired. */
  room(proc: TaskProcess): number {
    return this.maxRuns - proc.runs
  }

  release(proc: TaskProcess): void {
    if (!this.lent.has(proc)) return
    const users = this.lend(proc, -1)
    if (!proc.healthy || (users === 0 && proc.busy)) {
      this.drop(proc)
    } else if (proc.runs >= this.maxRuns) {
      if (users > 0) return
      // Retired: a fresh process starts now, so the next run does not wait for one.
      proc.kill('stop', 0)
      this.drop(proc)
      this.spawn()
    } else if (!this.open.includes(proc)) {
      this.open.push(proc)
    }
  }

  /** Kills every process (idle ones at once; busy ones are the worker's to stop first). */
  dispose(): void {
    for (const proc of this.lent.keys()) proc.kill('stop', 0)
    this.open = []
    this.lent.clear()
  }

  private lend(proc: TaskProcess, change: number): number {
    const users = (this.lent.get(proc) ?? 0) + change
    this.lent.set(proc, users)
    return users
  }

  private drop(proc: TaskProcess): void {
    this.lent.delete(proc)
    this.open = this.open.filter((p) => p !== proc)
  }

  private spawn(): TaskProcess {
    const proc = new TaskProcess({ ...this.options, shared: this.perProcess > 1 })
    this.lent.set(proc, 0)
    this.open.push(proc)
    return proc
  }
}

/**
 * Where a worker's task processes run, and their environment: the worker's resolved settings as SQ_*
 * variables, so `createTask` in a task enqueues as the worker would. The URL's password goes over IPC only.
 */
export function taskProcessOptions(settings: Settings): Omit<TaskProcessOptions, 'maxMemoryMb'> {
  const location = parseDatabaseUrl(settings.db)
  const databaseUrl = location.kind === 'sqlite' ? path.resolve(location.path) : settings.db
  const env = { ...process.env }
  for (const [key, variable] of Object.entries(ENV_VARS) as Array<[EnvSetting, string]>) {
    // listenUrl's password stays out of the environment too; a task that listens needs it from elsewhere (.pgpass).
    const value =
      key === 'db'
        ? withoutPassword(databaseUrl)
        : key === 'listenUrl' && settings.listenUrl
          ? withoutPassword(settings.listenUrl)
          : settings[key]
    if (value === null) delete env[variable]
    else env[variable] = Array.isArray(value) ? value.join(',') : String(value)
  }
  return { cwd: settings.root, env, databaseUrl }
}
