import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import { cleanEnv, SQ_BIN } from './cli.js'

/**
 * `sq worker` on a host of its own: its own hostname (UTS namespace) and its own pids (PID namespace,
 * where the worker is pid 1), as on another machine.
 */
export class HostWorker {
  readonly proc: ChildProcess
  output = ''
  constructor(
    readonly host: string,
    args: string[],
    o: { cwd: string; env?: Record<string, string> },
  ) {
    this.proc = spawn(
      'unshare',
      [
        '--uts',
        '--pid',
        '--fork',
        '--mount-proc',
        '--kill-child=SIGKILL',
        'sh',
        '-c',
        'hostname "$0" && exec "$@"',
        host,
        process.execPath,
        SQ_BIN,
        'worker',
        ...args,
      ],
      { cwd: o.cwd, env: { ...cleanEnv(), ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d))
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d))
  }

  /** The worker's pid as this (outer) host sees it: the child unshare forked. */
  get pid(): number {
    const children = fs.readFileSync(`/proc/${this.proc.pid}/task/${this.proc.pid}/children`, 'utf8').trim()
    return Number(children.split(/\s+/)[0])
  }
}
