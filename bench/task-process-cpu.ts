/**
 * CPU a task process spends per no-op task: `npm run build && node --import tsx bench/task-process-cpu.ts`.
 * CPU times are read from /proc (utime + stime), so the figures are the processes' own, whatever else
 * runs on the machine; BENCH_TASKS (default 2000) sets the count.
 * - back to back: runs handed to one task process directly (no database, no worker loop), each as
 *   soon as the last ended — the task process's own work per task.
 * - `sq worker -c 4` on SQLite: the tasks are queued to become runnable once the worker has warmed
 *   up; the task processes' CPU from then until all completed, over the count. Between tasks they wait
 *   for the worker, and waking an idle process costs more than the work itself.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { openQueue } from '../src/index.js'
import { TaskProcess } from '../dist/src/worker/task-process.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/run.js')
const N = Number(process.env.BENCH_TASKS ?? 2000)
const CONCURRENCY = 4
const WARM_UP_MS = 3000
const TICK_MS = 10 // /proc reports CPU time in clock ticks (USER_HZ = 100)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-cpu-'))
fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
fs.writeFileSync(path.join(dir, 'tasks.js'), 'export function noop() {}\n')

/** utime + stime of a process, ms. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function backToBack(): Promise<number> {
  const proc = new TaskProcess({ maxMemoryMb: 512, cwd: dir })
  const handlers = { onStart() {}, onDone() {}, onOutput() {}, onLog() {}, onProgress() {} }
  const run = (i: number) =>
    proc.run([
      {
        request: { type: 'run', id: `run-${i}`, attempt: 1, task: 'tasks#noop', args: '{}', root: dir, hooks: null },
        handlers,
      },
    ])[0]!
  await proc.ready
  await run(-1) // the first run imports the module
  const before = cpuMs(proc.pid)
  for (let i = 0; i < N; i++) {
    const result = await run(i)
    if (result.kind !== 'completed') throw new Error(`run ${i} ended ${JSON.stringify(result)}`)
  }
  const used = cpuMs(proc.pid) - before
  proc.kill('stop', 0)
  return used / N
}

async function throughWorker(): Promise<number> {
  const db = path.join(dir, 'sq.db')
  const queue = await openQueue({ db, root: dir })
  const later = new Date(Date.now() + 600_000)
  for (let i = 0; i < N; i++) await queue.enqueue({ task: 'tasks#noop', at: later })
  const worker = spawn(process.execPath, [BIN, 'worker', '--db', db, '-c', String(CONCURRENCY)], {
    cwd: dir,
    stdio: 'ignore',
  })
  try {
    await sleep(WARM_UP_MS)
    const procs = fs
      .readFileSync(`/proc/${worker.pid}/task/${worker.pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number)
    if (procs.length !== CONCURRENCY) throw new Error(`expected ${CONCURRENCY} task processes, found ${procs.length}`)
    const cpu = () => procs.reduce((sum, pid) => sum + cpuMs(pid), 0)
    const before = cpu()
    // Runnable now: a bench's shortcut past the storage layer.
    await queue.backend.db.updateTable('sq_tasks').set({ run_at: new Date().toISOString() }).execute()
    while ((await queue.list({ statuses: ['queued', 'progress'], limit: 1 })).length > 0) await sleep(200)
    return (cpu() - before) / N
  } finally {
    worker.kill('SIGTERM')
    await new Promise((resolve) => worker.on('exit', resolve))
    await queue.close()
  }
}

try {
  console.log(`${N} no-op tasks, CPU per task in the task process(es):`)
  console.log(`  back to back, one task process:     ${(1000 * (await backToBack())).toFixed(0)} µs`)
  console.log(`  sq worker -c ${CONCURRENCY}, SQLite, queued ahead: ${(1000 * (await throughWorker())).toFixed(0)} µs`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
