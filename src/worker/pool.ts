import path from 'node:path'
import { ENV_VARS, type EnvSetting, type Settings } from '../config.js'
import { withoutPassword } from '../inherited-database.js'
import { parseDatabaseUrl } from '../storage/open.js'
import { TaskProcess, type TaskProcessOptions } from './task-process.js'

/**
 * Task processes kept warm between runs (starting Node costs ~100 ms). A process that a run killed (timeout,
 * cancel, crash) is dropped and a fresh one takes its place on the next acquire.
 */
export class ProcessPool {
  private idle: TaskProcess[] = []
  private readonly all = new Set<TaskProcess>()

  constructor(
    private readonly options: TaskProcessOptions,
    /** Runs after which a task process is replaced: it keeps its imports, edits and leaks included. */
    private readonly maxRuns = Infinity,
  ) {}

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
