import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Progress } from '../types.js'
import { LIFELINE_FD, type RunRequest, SHARED_ARG, sentinel, sentinelPrefixAt } from './protocol.js'
import type { StopReason, TaskResult, ToTaskProcess, ToWorker } from './protocol.js'

/** The task process's entry, beside this module in dist/bundle/ (scripts/bundle.mjs) as in dist/src/worker/. */
const CHILD = fileURLToPath(new URL('./child.js', import.meta.url))

/** How a run in a task process ended, as the worker sees it; `unstarted`: taken back, or the process died first. */
export type RunResult =
  | TaskResult
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'killed'; reason: KillReason }
  | { kind: 'unstarted' }

/**
 * Why the worker stopped a run: its time ran out, it lost its claim (cancel), the worker stops, or a run
 * beside it in a shared process did not stop when asked and the process was killed.
 */
export type KillReason = StopReason | 'stop' | 'sibling'

export interface RunHandlers {
  onStart(): void
  /** The process is done with the run (its log may still be on its way). */
  onDone(): void
  onOutput(text: string): void
  onLog(text: string): void
  onProgress(progress: Progress): void
}

export interface TaskProcessOptions {
  /** Heap limit of the task process in MiB (V8's --max-old-space-size). */
  maxMemoryMb: number
  cwd: string
  /** Default: the worker's (a worker passes taskProcessOptions'). */
  env?: NodeJS.ProcessEnv
  /** The database URL for `createTask` in a task, sent over IPC: it may hold a password. */
  databaseUrl?: string
  /** Runs many runs at once (`--tasks-per-process` above 1): each begins when handed, its writes go by IPC. */
  shared?: boolean
}

/** SIGTERM first; what still lives this much later gets SIGKILL. */
const KILL_GRACE_MS = 5000
/** How long a run asked to stop (its AbortSignal) has before its process is killed. */
export const ABORT_GRACE_MS = 500
/** How long after its exit a process's pipes may deliver what it wrote (a grandchild may hold them for ever). */
const DRAIN_AFTER_EXIT_MS = 1000

type Stream = 'stdout' | 'stderr'

interface HandedRun {
  request: RunRequest
  handlers: RunHandlers
  resolve(result: RunResult): void
  begun: boolean
  done?: RunResult
  /** The worker asked it to stop: it ends so, whatever it returns. */
  stopped?: StopReason
  /** Streams whose end-of-run sentinel has arrived. */
  ended: Set<Stream>
}

/**
 * One task process, in its own process group, reused for batch after batch until a run kills it
 * (timeout, cancel, crash). Its stdout and stderr become the log of the run they were written in; shared,
 * it runs its runs at once, each one's writes coming by IPC (its pipes are the worker's own).
 */
export class TaskProcess {
  private readonly child: ChildProcess
  /** In the process's order: the begun ones (at most one without `done`) first, then those waiting. */
  private handed: HandedRun[] = []
  private killReason: KillReason | undefined
  private exited = false
  private readonly shared: boolean
  /** Runs handed so far. */
  runs = 0
  readonly ready: Promise<void>

  constructor(o: TaskProcessOptions) {
    this.shared = o.shared ?? false
    const output = this.shared ? 'inherit' : 'pipe'
    this.child = fork(CHILD, this.shared ? [SHARED_ARG] : [], {
      cwd: o.cwd,
      env: o.env,
      // Its own process group, so timeout and cancel can kill the task's grandchildren with it.
      detached: true,
      // fd 3 IPC, fd 4 the lifeline (LIFELINE_FD).
      stdio: ['ignore', output, output, 'ipc', 'pipe'],
      execArgv: [`--max-old-space-size=${o.maxMemoryMb}`, ...(CHILD.endsWith('.ts') ? ['--import', 'tsx'] : [])],
    })
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', () => {
        // Ahead of any run on the same channel, so a task's createTask finds it.
        if (o.databaseUrl !== undefined) this.send({ type: 'database', url: o.databaseUrl })
        resolve()
      })
      this.child.once('exit', (code) => reject(new Error(`task process exited with code ${code} before it was ready`)))
    })
    this.ready.catch(() => {})
    this.child.on('message', (m: ToWorker) => this.onMessage(m))
    if (!this.shared) {
      this.watch('stdout')
      this.watch('stderr')
    }
    this.child.on('exit', (code, signal) => this.onExit(code, signal))
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Usable for another batch: alive and not being killed. */
  get healthy(): boolean {
    return !this.exited && this.killReason === undefined
  }

  get busy(): boolean {
    return this.handed.length > 0
  }

  /** Hands the process a batch of runs in one message; each promise is one run's result, in order. */
  run(batch: Array<{ request: RunRequest; handlers: RunHandlers }>): Promise<RunResult>[] {
    if (this.exited || batch.length === 0) return batch.map(() => Promise.resolve({ kind: 'unstarted' }))
    this.runs += batch.length
    const idle = this.handed.length === 0
    // Shared, no sentinel ends a run's log: its `done` comes after what it wrote.
    const ended = (): Set<Stream> => new Set(this.shared ? ['stdout', 'stderr'] : [])
    const results = batch.map(
      ({ request, handlers }) =>
        new Promise<RunResult>((resolve) => {
          this.handed.push({ request, handlers, resolve, begun: false, ended: ended() })
        }),
    )
    // A process that died after it was picked fails the send; its 'exit' then ends the runs.
    this.send({ type: 'runs', runs: batch.map((b) => b.request) }, (error) => {
      if (error && !this.exited) this.kill('stop', 0)
    })
    if (!this.shared) {
      if (idle) this.beginNext()
    } else for (const run of this.handed.filter((r) => !r.begun)) this.begin(run)
    return results
  }

  /**
   * Asks a run to stop (its AbortSignal) and kills the process if it is not done `graceMs` later. One run at a
   * time the process is killed anyway once the run is done, as ever (SPEC §7); shared, a run that stops in
   * time leaves its process and siblings be.
   */
  stop(id: string, reason: StopReason, graceMs = ABORT_GRACE_MS): void {
    const run = this.handed.find((r) => r.request.id === id && !r.done)
    if (this.exited || !run || run.stopped) return
    run.stopped = reason
    this.send({ type: 'abort', id, reason })
    setTimeout(() => {
      if (!run.done) this.kill(reason)
    }, graceMs).unref()
  }

  /** Asks the process to `skip` these runs; those it had not begun end `unstarted`. */
  retract(ids: string[]): void {
    if (this.exited || ids.length === 0) return
    this.send({ type: 'skip', ids })
  }

  /** SIGTERM to the process group, SIGKILL after `graceMs`. */
  kill(reason: KillReason, graceMs = KILL_GRACE_MS): void {
    if (this.exited) return
    this.killReason ??= reason
    this.signalGroup('SIGTERM')
    setTimeout(() => this.signalGroup('SIGKILL'), graceMs).unref()
  }

  private send(message: ToTaskProcess, then: (error: Error | null) => void = () => {}): void {
    this.child.send(message, then)
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal)
    } catch {
      // the group is gone already
    }
  }

  private beginNext(): void {
    const next = this.handed.find((r) => !r.begun)
    if (next) this.begin(next)
  }

  private begin(run: HandedRun): void {
    run.begun = true
    run.handlers.onStart()
  }

  private onMessage(message: ToWorker): void {
    if (message.type === 'skipped') {
      const dropped = new Set(message.ids)
      const taken = this.handed.filter((r) => dropped.has(r.request.id) && !r.begun)
      this.handed = this.handed.filter((r) => !taken.includes(r))
      for (const r of taken) r.resolve({ kind: 'unstarted' })
      return
    }
    if (message.type === 'ready') return
    const run = this.handed.find((r) => r.request.id === message.id && !r.done)
    if (!run?.begun) return
    if (message.type === 'output') run.handlers.onOutput(message.data)
    else if (message.type === 'log') run.handlers.onLog(message.data)
    else if (message.type === 'progress') run.handlers.onProgress(message.progress)
    else if (message.type === 'done') {
      run.done = run.stopped ? { kind: 'killed', reason: run.stopped } : message.result
      run.handlers.onDone()
      // One run at a time, a run asked to stop takes its process with it: the next ones are given back.
      if (run.stopped && !this.shared) this.kill(run.stopped, 0)
      else if (!this.shared) this.beginNext()
      this.settleIfComplete(run)
    }
  }

  private endOf(run: HandedRun, code: number | null, signal: NodeJS.Signals | null): RunResult {
    if (run.done) return run.done
    if (!run.begun) return { kind: 'unstarted' }
    if (run.stopped) return { kind: 'killed', reason: run.stopped }
    if (this.killReason === undefined) return { kind: 'exited', code, signal }
    return { kind: 'killed', reason: this.killReason === 'stop' ? 'stop' : 'sibling' }
  }

  /** Splits a pipe into runs' logs at the sentinels (protocol.ts); what comes when no run is handed is dropped. */
  private watch(stream: Stream): void {
    let pending = ''
    const pipe = this.child[stream]!
    pipe.setEncoding('utf8')
    pipe.on('data', (data: string) => {
      pending += data
      for (let run = this.handed.find((r) => !r.ended.has(stream)); run; ) {
        const mark = sentinel(run.request.id, run.request.attempt)
        const at = pending.indexOf(mark)
        if (at === -1) {
          const held = sentinelPrefixAt(pending, mark)
          if (held > 0) run.handlers.onLog(pending.slice(0, held))
          pending = pending.slice(held)
          return
        }
        if (at > 0) run.handlers.onLog(pending.slice(0, at))
        pending = pending.slice(at + mark.length)
        run.ended.add(stream)
        this.settleIfComplete(run)
        run = this.handed.find((r) => !r.ended.has(stream))
      }
      pending = ''
    })
  }

  private settleIfComplete(run: HandedRun): void {
    if (!run.done || run.ended.size < 2) return
    this.handed = this.handed.filter((r) => r !== run)
    run.resolve(run.done)
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true
    this.child.stdio[LIFELINE_FD]?.destroy()
    this.signalGroup('SIGKILL') // grandchildren the task left behind
    if (this.handed.length === 0) return
    // Once the pipes delivered what the process wrote, each run ends: as it was done; not begun, unstarted;
    // asked to stop, so; else killed with the process (a sibling of the run it was killed for), or exited.
    const settle = () => {
      const runs = this.handed
      this.handed = []
      for (const run of runs) run.resolve(this.endOf(run, code, signal))
    }
    const timer = setTimeout(settle, DRAIN_AFTER_EXIT_MS)
    this.child.once('close', () => {
      clearTimeout(timer)
      settle()
    })
  }
}
