import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { HOOKS_MODULE } from './workload.js'

/**
 * The soak's workers: real `sq worker` processes built from this checkout, each writing its stdout and
 * stderr to a log file of its own. A worker that exits is started again; an exit the soak did not cause
 * (anything but our SIGKILL, or a SIGTERM answered with exit 0) is recorded as a death.
 */

export const SQ_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js')

/** A worker's end that the soak did not inject. */
export interface Death {
  pid: number
  code: number | null
  signal: NodeJS.Signals | null
  log: string
  /** What the soak had done to it, if anything (e.g. a SIGTERM it did not answer with exit 0). */
  after: string
}

interface Slot {
  child: ChildProcess
  log: string
  injected: 'SIGKILL' | 'SIGTERM' | null
  /** Why the soak ended it otherwise (a stop that hung), for the death record. */
  why?: string
  exit: Promise<void>
}

export interface FleetOptions {
  db: string
  root: string
  logs: string
  label: string
  count: number
  concurrency: number
  /** Marks every process of this soak (inherited by task processes and watchdogs) for the leftover scan. */
  mark: string
  heartbeatTimeout: number
}

export class Fleet {
  readonly deaths: Death[] = []
  readonly logs: string[] = []
  private readonly slots: Slot[] = []
  private draining = false
  private started = 0

  constructor(private readonly o: FleetOptions) {}

  start(): void {
    for (let i = 0; i < this.o.count; i++) this.slots.push(this.spawn(i))
  }

  get size(): number {
    return this.slots.length
  }

  pid(index: number): number {
    return this.slots[index]!.child.pid!
  }

  /** kill -9, then a fresh worker in its place. */
  async kill(index: number): Promise<number> {
    return this.endAndReplace(index, 'SIGKILL')
  }

  /** A graceful stop (the worker finishes or gives back its tasks), then a fresh worker. */
  async term(index: number): Promise<number> {
    return this.endAndReplace(index, 'SIGTERM')
  }

  signal(index: number, signal: NodeJS.Signals): number {
    const slot = this.slots[index]!
    slot.child.kill(signal)
    return slot.child.pid!
  }

  /** Stops every worker gracefully; one still alive after `timeoutMs` is killed and counted as a death. */
  async stop(timeoutMs: number): Promise<void> {
    this.draining = true
    for (const slot of this.slots) {
      slot.child.kill('SIGCONT')
      slot.injected = 'SIGTERM'
      slot.child.kill('SIGTERM')
    }
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), timeoutMs).unref())
    for (const slot of this.slots) {
      if ((await Promise.race([slot.exit, late])) === 'late') {
        this.deaths.push({ pid: slot.child.pid!, code: null, signal: null, log: slot.log, after: 'did not stop' })
        slot.child.kill('SIGKILL')
        await slot.exit
      }
    }
  }

  /** For Ctrl-C and failures: every worker killed at once. */
  killAll(): void {
    this.draining = true
    for (const slot of this.slots) {
      slot.child.kill('SIGCONT')
      slot.child.kill('SIGKILL')
    }
  }

  private async endAndReplace(index: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<number> {
    const slot = this.slots[index]!
    slot.injected = signal
    slot.child.kill('SIGCONT')
    slot.child.kill(signal)
    // A graceful stop waits out its tasks (3 s at most here) within the grace of 30 s; past a minute it hangs.
    const hung = setTimeout(() => {
      slot.injected = null
      slot.why = 'still running 60 s after our SIGTERM'
      slot.child.kill('SIGKILL')
    }, 60_000)
    await slot.exit
    clearTimeout(hung)
    return slot.child.pid!
  }

  private spawn(index: number): Slot {
    const log = path.join(this.o.logs, `${this.o.label}-worker${index + 1}-${++this.started}.log`)
    this.logs.push(log)
    const fd = fs.openSync(log, 'a')
    const child = spawn(
      process.execPath,
      [SQ_BIN, 'worker', '--db', this.o.db, '--root', this.o.root, '--concurrency', String(this.o.concurrency)],
      {
        cwd: this.o.root,
        stdio: ['ignore', fd, fd],
        env: {
          ...process.env,
          SQ_HOOKS: HOOKS_MODULE,
          SQ_HEARTBEAT_TIMEOUT: String(this.o.heartbeatTimeout),
          SQ_CHAOS_MARK: this.o.mark,
        },
      },
    )
    fs.closeSync(fd)
    const slot: Slot = {
      child,
      log,
      injected: null,
      exit: new Promise((resolve) =>
        child.on('exit', (code, signal) => {
          const expected =
            (slot.injected === 'SIGKILL' && signal === 'SIGKILL') || (slot.injected === 'SIGTERM' && code === 0)
          if (!expected) {
            const after = slot.why ?? (slot.injected ? `after our ${slot.injected}` : 'on its own')
            this.deaths.push({ pid: child.pid!, code, signal, log, after })
          }
          // A worker that died on its own comes back a second later, as under systemd's RestartSec=1.
          const respawn = () => {
            if (!this.draining) this.slots[index] = this.spawn(index)
            resolve()
          }
          if (expected) respawn()
          else setTimeout(respawn, 1_000)
        }),
      ),
    }
    return slot
  }
}

/** Processes of this soak still alive (task processes, watchdog shells): found by the mark in their environment. */
export function markedProcesses(mark: string): Array<{ pid: number; command: string }> {
  const found: Array<{ pid: number; command: string }> = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'latin1')
      if (!env.split('\0').includes(`SQ_CHAOS_MARK=${mark}`)) continue
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1').replaceAll('\0', ' ').trim()
      found.push({ pid: Number(entry), command })
    } catch {
      // gone meanwhile
    }
  }
  return found
}
