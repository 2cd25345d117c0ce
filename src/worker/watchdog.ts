import { spawn } from 'node:child_process'
import { LIFELINE_FD } from './protocol.js'

/**
 * A task process must not outlive its worker. When the worker exits its IPC channel closes and the
 * 'disconnect' handler takes the process group down — but only if the event loop runs, and a task in a
 * busy loop never yields it. So each task process starts a watchdog that needs no event loop of ours: a
 * shell in the task's process group, blocked reading the lifeline (a pipe whose other end only the
 * worker holds; blocking, as libuv leaves a child's end of its stdio). The kernel closes that end when
 * the worker dies, kill -9 included; the read returns and the shell SIGKILLs the group, the task's
 * grandchildren and itself with it. It costs no CPU while it waits, and a few ms to start (a
 * worker_threads thread cost ~100 ms of CPU per task process). When a task process ends otherwise, the
 * worker closes its end too, and the watchdog takes what the task left behind.
 */
export function startWatchdog(): void {
  const group = process.pid // the task process leads its own group (see TaskProcess)
  spawn('/bin/sh', ['-c', `read -r _ <&${LIFELINE_FD}; kill -9 -${group}`], {
    stdio: ['ignore', 'ignore', 'ignore', 'ignore', LIFELINE_FD],
  })
    .on('error', (error) => process.stderr.write(`[sq] the task process's watchdog did not start: ${error.message}\n`))
    .unref()
}
