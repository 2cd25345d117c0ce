import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Progress } from '../types.js'
import { CHILD_ENTRY as CHILD } from './child-path.js'
import { LIFELINE_FD, sentinel, type RunRequest, type ToWorker } from './protocol.js'
import { sentinelPrefixAt } from './sentinel-prefix.js'

/** How a run in a task process ended, as the worker sees it. */
export type RunResult =
  | { kind: 'completed'; output: string | null; cpuMs: number; peakRss: number }
  | { kind: 'threw'; error: string; cpuMs: number; peakRss: number }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'killed'; reason: KillReason }

/** Why the worker stopped a run: its time ran out, it lost its claim (cancel), or the worker stops. */
export type KillReason = 'timeout' | 'lost' | 'stop'

export interface RunHandlers {
  onOutput(text: string): void
  onLog(text: string): void
  onProgress(progress: Progress): void
}

export interface TaskProcessOptions {
  /** Heap limit of the task process in MiB (V8's --max-old-space-size). */
  maxMemoryMb: number
  cwd: string
  /** Its environment (default: the worker's); see taskProcessEnv for what a worker passes. */
  env?: NodeJS.ProcessEnv
}

/** SIGTERM first; what still lives this much later gets SIGKILL. */
export const KILL_GRACE_MS = 5000

interface ActiveRun {
  request: RunRequest
  handlers: RunHandlers
  resolve(result: RunResult): void
  done?: ToWorker & { type: 'done' }
  /** Streams (stdout, stderr) whose end-of-run sentinel has arrived. */
  ended: Set<'stdout' | 'stderr'>
}

/**
 * One task process: a child in its own process group, reused for run after run until a run kills it
 * (timeout, cancel, crash). Its stdout and stderr become the current run's log.
 */
export class TaskProcess {
  private readonly child: ChildProcess
  private active: ActiveRun | undefined
  private killReason: KillReason | undefined
  private exited = false
  private handed = 0
  readonly ready: Promise<void>

  constructor(o: TaskProcessOptions) {
    const childPath = fileURLToPath(CHILD)
    this.child = fork(childPath, [], {
      cwd: o.cwd,
      env: o.env,
      // Its own process group, so timeout and cancel can kill the task's grandchildren with it.
      detached: true,
      // fd 3 the IPC channel, fd 4 (LIFELINE_FD) the lifeline: never written, it closes with the worker.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
      execArgv: [`--max-old-space-size=${o.maxMemoryMb}`, ...(childPath.endsWith('.ts') ? ['--import', 'tsx'] : [])],
    })
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', () => resolve())
      this.child.once('exit', (code) => reject(new Error(`task process exited with code ${code} before it was ready`)))
    })
    this.ready.catch(() => {})
    this.child.on('message', (m: ToWorker) => this.onMessage(m))
    this.watch('stdout')
    this.watch('stderr')
    this.child.on('exit', (code, signal) => this.onExit(code, signal))
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Usable for another run: alive and not being killed. */
  get healthy(): boolean {
    return !this.exited && this.killReason === undefined
  }

  /** Runs handed to this process so far. */
  get runs(): number {
    return this.handed
  }

  get busy(): boolean {
    return this.active !== undefined
  }

  run(request: RunRequest, handlers: RunHandlers): Promise<RunResult> {
    if (this.active) throw new Error('task process is busy')
    if (this.exited)
      return Promise.resolve({ kind: 'exited', code: this.child.exitCode, signal: this.child.signalCode })
    this.handed++
    return new Promise((resolve) => {
      this.active = { request, handlers, resolve, ended: new Set() }
      // A process that died after it was picked fails the send; its 'exit' then ends the run.
      this.child.send(request, (error) => {
        if (error && !this.exited) this.kill('stop', 0)
      })
    })
  }

  /** Stops the process and its group: SIGTERM, then SIGKILL after KILL_GRACE_MS. */
  kill(reason: KillReason, graceMs = KILL_GRACE_MS): void {
    if (this.exited) return
    this.killReason ??= reason
    this.signalGroup('SIGTERM')
    setTimeout(() => this.signalGroup('SIGKILL'), graceMs).unref()
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal)
    } catch {
      // the group is gone already
    }
  }

  private onMessage(message: ToWorker): void {
    const run = this.active
    if (!run) return
    if (message.type === 'output') run.handlers.onOutput(message.data)
    else if (message.type === 'progress') run.handlers.onProgress(message.progress)
    else if (message.type === 'done') {
      run.done = message
      this.settleIfComplete()
    }
  }

  /** Splits a pipe into runs at the sentinels; what comes between runs belongs to no task. */
  private watch(stream: 'stdout' | 'stderr'): void {
    let pending = ''
    const pipe = this.child[stream]!
    pipe.setEncoding('utf8')
    pipe.on('data', (data: string) => {
      pending += data
      for (;;) {
        const run = this.active
        const mark = run ? sentinel(run.request.id, run.request.attempt) : undefined
        const at = mark ? pending.indexOf(mark) : -1
        if (run && mark && at !== -1) {
          if (at > 0) run.handlers.onLog(pending.slice(0, at))
          pending = pending.slice(at + mark.length)
          run.ended.add(stream)
          this.settleIfComplete()
          continue
        }
        // Hold back only what may be the start of the sentinel, split across reads; the rest (NUL
        // characters of the task's own included) is the run's log.
        const held = mark ? sentinelPrefixAt(pending, mark) : pending.length
        if (held > 0 && run) run.handlers.onLog(pending.slice(0, held))
        pending = pending.slice(held)
        break
      }
    })
  }

  private settleIfComplete(): void {
    const run = this.active
    if (!run?.done || run.ended.size < 2) return
    this.active = undefined
    const d = run.done
    run.resolve(
      d.ok
        ? { kind: 'completed', output: d.output, cpuMs: d.cpuMs, peakRss: d.peakRss }
        : { kind: 'threw', error: d.error, cpuMs: d.cpuMs, peakRss: d.peakRss },
    )
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true
    this.child.stdio[LIFELINE_FD]?.destroy()
    // Grandchildren the task left behind go with it.
    this.signalGroup('SIGKILL')
    const run = this.active
    if (!run) return
    // Let the pipes drain what the process wrote before it died, then end the run.
    setImmediate(() => {
      this.active = undefined
      run.resolve(this.killReason ? { kind: 'killed', reason: this.killReason } : { kind: 'exited', code, signal })
    })
  }
}
