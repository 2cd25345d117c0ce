import { spawn } from 'node:child_process'
import { LIFELINE_FD } from './protocol.js'

/**
 * A task process must not outlive its worker, and the 'disconnect' handler needs an event loop that a
 * busy task never yields. So a shell in the task's process group blocks reading the lifeline, whose
 * other end only the worker holds: when the worker dies (kill -9 included) or closes it after the task
 * process ended, the read returns and the shell SIGKILLs the group. No CPU while it waits, a few ms to
 * start (a worker_threads thread cost ~100 ms of CPU).
 */
export function startWatchdog(): void {
  const group = process.pid // the task process leads its own group (see TaskProcess)
  spawn('/bin/sh', ['-c', `read -r _ <&${LIFELINE_FD}; kill -9 -${group}`], {
    stdio: ['ignore', 'ignore', 'ignore', 'ignore', LIFELINE_FD],
  })
    .on('error', (error) => process.stderr.write(`[sq] the task process's watchdog did not start: ${error.message}\n`))
    .unref()
}
