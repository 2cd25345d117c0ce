import { Worker } from 'node:worker_threads'
import { LIFELINE_FD } from './protocol.js'

/**
 * A task process must not outlive its worker. When the worker exits its IPC channel closes and the
 * 'disconnect' handler takes the process group down — but only if the event loop runs, and a task in a
 * busy loop never yields it. This thread has an event loop of its own, idle on the lifeline: a pipe
 * whose other end only the worker holds, closed by the kernel when the worker dies (kill -9 included).
 * Then it SIGKILLs the process group, the task's grandchildren with it. It costs no CPU until then (no
 * polling), and, unlike a blocking read, lets the process exit with its own code. Inline source, so
 * the bundled child needs no file beside it.
 */
const SOURCE = `
const net = require('node:net')
const die = () => process.kill(-process.pid, 'SIGKILL')
new net.Socket({ fd: ${LIFELINE_FD}, readable: true, writable: false }).on('data', () => {}).on('end', die).on('error', die)
`

/** Starts the watchdog of this task process (its own process group leader, see TaskProcess). */
export function startWatchdog(): void {
  new Worker(SOURCE, { eval: true, execArgv: [] })
    .on('error', (error) => process.stderr.write(`[sq] the task process's watchdog failed: ${error.message}\n`))
    .unref()
}
