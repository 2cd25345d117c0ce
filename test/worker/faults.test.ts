import assert from 'node:assert/strict'
import fs from 'node:fs'
import { sql } from 'kysely'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { isAlive, sleep, waitFor, waitForExit, waitForFile } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * Faults a worker must survive without harm to the record: it is declared dead and then wakes up; a
 * task ignores SIGTERM, so the SIGKILL that follows 5 s later (SPEC §6) must come; a verdict the database
 * refuses for its content.
 */
const TASKS = `
import fs from 'node:fs'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const forever = () => new Promise(() => setInterval(() => {}, 1000))

/**
 * Run 1 writes its pid and yields a piece every 10 ms until the gate opens (so its worker always holds
 * output not yet flushed), then ends; later runs return at once.
 */
export async function* fenced({ counter, pidFile, gate }) {
  const run = Number(fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8') : 0) + 1
  fs.writeFileSync(counter, String(run))
  if (run > 1) { yield 'run ' + run; return }
  yield 'run 1 began;'
  fs.writeFileSync(pidFile, String(process.pid))
  while (!fs.existsSync(gate)) { yield '.'; await sleep(10) }
  yield 'run 1 ended'
}

/** Ignores SIGTERM and never ends: only SIGKILL stops it. */
export async function stubborn({ pidFile }) {
  process.on('SIGTERM', () => {})
  fs.writeFileSync(pidFile, String(process.pid))
  await forever()
}

export function say({ text }) { return text }
`

/** The processes below `pid` (children, theirs, …), read from /proc as `ps` would show them. */
function descendants(pid: number): Array<{ pid: number; args: string }> {
  const procs = fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
        const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim()
        return [{ pid: Number(name), ppid, args }]
      } catch {
        return [] // gone meanwhile
      }
    })
  const found: Array<{ pid: number; args: string }> = []
  for (let parents = [pid]; parents.length > 0; ) {
    const children = procs.filter((p) => parents.includes(p.ppid))
    found.push(...children.map(({ pid, args }) => ({ pid, args })))
    parents = children.map((p) => p.pid)
  }
  return found
}

/** SIGTERM, then SIGKILL this much later (SPEC §6: "SIGTERM, then SIGKILL 5 s later"). */
const KILL_AFTER_MS = 5000

for (const dialect of DIALECTS) {
  describeOn(dialect, `worker faults (${dialect})`, function () {
    this.timeout(90_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })
    /** A heartbeat every ~0.7 s: a stopped worker is declared dead after 2 s. */
    const FAST = { SQ_HEARTBEAT_TIMEOUT: '2' }

    it('a worker declared dead that wakes up does not overwrite the record of the worker that rescued its task', async () => {
      const gate = s.file('gate')
      const a = s.worker([], FAST)
      const id = await s.enqueue(
        'tasks#fenced',
        { counter: s.file('runs'), pidFile: s.file('task.pid'), gate },
        { maxAttempts: 2 },
      )
      const taskPid = Number(await waitForFile(s.file('task.pid'), 10_000))
      // Its first piece is in the record before the worker is frozen.
      await waitFor(
        async () => (await s.get(id)).output?.startsWith('run 1 began;'),
        10_000,
        'the first piece to be flushed',
      )
      a.signal('SIGSTOP')
      try {
        const b = s.worker([], FAST)
        const rescued = await s.waitForStatus(id, ['completed'], 30_000)
        assert.equal(rescued.output, 'run 2')
        assert.equal(rescued.attempts, 2)
        // The frozen worker's task process runs on: it ends now, its worker still frozen.
        fs.writeFileSync(gate, '')
        await waitForExit(taskPid, 5000, "the frozen worker's task to end").catch(() => {})
        const before = a.stdout.length
        a.signal('SIGCONT')
        // Awake, the worker holds output it had not flushed and a run that ended: whichever it writes
        // first (the flush, the verdict) or checks first (its claim), the record must stay B's.
        await waitFor(
          () => new RegExp(`(^|Z )(lost|stopped|completed|failed|dropped) ${id}`, 'm').test(a.stdout.slice(before)),
          10_000,
          `the woken worker to say what became of ${id}; it printed:\n${a.output}`,
        )
        await sleep(1000) // a flush or verdict that would overwrite has had its turn
        const after = await s.get(id)
        assert.equal(after.status, 'completed', a.output)
        assert.equal(after.output, 'run 2', `the woken worker's output must not reach the record:\n${a.output}`)
        assert.equal(after.attempts, 2)
        assert.equal(after.finished, rescued.finished, 'the end of the run stays the rescuer’s')
        assert.equal(after.worker, rescued.worker)
        assert.doesNotMatch(a.stdout.slice(before), new RegExp(`(^|Z )completed ${id}`, 'm'))
        for (const w of [a, b]) w.signal('SIGTERM')
        for (const w of [a, b]) assert.equal((await w.ended()).code, 0, w.output)
      } finally {
        a.signal('SIGCONT')
      }
    })

    it('a task that ignores SIGTERM past its timeout is SIGKILLed 5 s later; its worker runs on', async () => {
      const worker = s.worker(['--timeout', '1'])
      const id = await s.enqueue('tasks#stubborn', { pidFile: s.file('task.pid') })
      const pid = Number(await waitForFile(s.file('task.pid'), 10_000))
      const startedAt = Date.now()
      // SIGTERM came at 1 s and was ignored; SIGKILL is due at 6 s.
      await sleep(3000)
      assert.ok(isAlive(pid), 'the task ignored SIGTERM (else this test proves nothing)')
      await waitForExit(pid, KILL_AFTER_MS + 10_000, 'the task to be SIGKILLed')
      assert.ok(Date.now() - startedAt >= 1000 + KILL_AFTER_MS - 500, 'not killed before SIGKILL was due')
      const t = await s.waitForStatus(id, ['failed'], 10_000)
      assert.equal(t.error, 'Task timed out after 1 seconds')
      const next = await s.enqueue('tasks#say', { text: 'next' })
      assert.equal((await s.waitForStatus(next, ['completed'], 15_000)).output, 'next')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('a cancelled task that ignores SIGTERM is SIGKILLed 5 s later; its worker runs on', async () => {
      const worker = s.worker()
      const id = await s.enqueue('tasks#stubborn', { pidFile: s.file('task.pid') })
      const pid = Number(await waitForFile(s.file('task.pid'), 10_000))
      const cancel = s.sq(['cancel', id])
      assert.equal((await cancel.ended()).code, 0, cancel.output)
      assert.equal((await s.get(id)).status, 'cancelled')
      await sleep(2000)
      assert.ok(isAlive(pid), 'the task ignored SIGTERM (else this test proves nothing)')
      await waitForExit(pid, KILL_AFTER_MS + 10_000, 'the cancelled task to be SIGKILLed')
      const next = await s.enqueue('tasks#say', { text: 'next' })
      assert.equal((await s.waitForStatus(next, ['completed'], 15_000)).output, 'next')
      assert.equal((await s.get(id)).status, 'cancelled', 'the killed run did not overwrite the cancel')
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
    })

    it('a worker stopped with SIGTERM SIGKILLs, after its grace and 5 s more, a task that ignores SIGTERM', async () => {
      const worker = s.worker(['--grace', '1'])
      const id = await s.enqueue('tasks#stubborn', { pidFile: s.file('task.pid') })
      const pid = Number(await waitForFile(s.file('task.pid'), 10_000))
      worker.signal('SIGTERM')
      await sleep(3000)
      assert.ok(isAlive(pid), 'the task ignored SIGTERM (else this test proves nothing)')
      const exit = await worker.ended(1000 + KILL_AFTER_MS + 15_000)
      assert.deepEqual(exit, { code: 0, signal: null }, worker.output)
      assert.equal(isAlive(pid), false, 'the task process did not outlive its worker')
      // Stopped by its worker, not by its own fault: queued again without spending an attempt.
      const t = await s.get(id)
      assert.equal(t.status, 'queued', worker.output)
      assert.equal(t.attempts, 0)
    })

    it('a verdict the database refuses for its content becomes a failure that says so; the rest of its batch is kept', async () => {
      // A rule of this database (a deployment's own constraint, say) refuses one output; the database
      // still answers, so this is no outage.
      const d = s.queue.backend.db
      if (dialect === 'postgres') {
        await sql`alter table sq_tasks add constraint sq_test_refuse check (output not like '%refuse me%')`.execute(d)
      } else {
        await sql`create trigger sq_test_refuse before update of output on sq_tasks
          when new.output like '%refuse me%' begin select raise(abort, 'sq_test_refuse'); end`.execute(d)
      }
      try {
        const ids = await Promise.all(
          ['fine 1', 'please refuse me', 'fine 2'].map((text) => s.enqueue('tasks#say', { text }, { maxAttempts: 3 })),
        )
        const w = s.worker(['--burst', '--concurrency', '3'])
        const exit = await w.ended(30_000)
        const [fine1, refused, fine2] = await Promise.all(ids.map((id) => s.get(id)))
        assert.deepEqual(
          [fine1!.status, fine1!.output, fine2!.status, fine2!.output],
          ['completed', 'fine 1', 'completed', 'fine 2'],
        )
        assert.equal(refused!.status, 'failed', w.output)
        assert.match(refused!.error ?? '', /^sq could not record this run's result: .*sq_test_refuse/)
        assert.equal(refused!.output, null)
        assert.match(w.stdout, new RegExp(`could not record the end of ${ids[1]}: .*sq_test_refuse`))
        // What the worker says of the run is what the record says, and the burst counts it as failed (SPEC §6).
        assert.deepEqual(exit, { code: 1, signal: null }, `a burst that ran a failed task exits 1:\n${w.output}`)
        assert.doesNotMatch(
          w.stdout,
          new RegExp(`(^|Z )completed ${ids[1]}`, 'm'),
          `the log says it completed:\n${w.output}`,
        )
      } finally {
        if (dialect === 'postgres') await sql`alter table sq_tasks drop constraint sq_test_refuse`.execute(d)
        else await sql`drop trigger sq_test_refuse`.execute(d)
      }
    })

    it('a worker stopped with SIGTERM leaves no process behind when it exits: task processes and watchdogs', async () => {
      const worker = s.worker(['--concurrency', '4'])
      await worker.waitForOutput(/worker \S+ started/)
      // Four warm task processes, each with its watchdog shell.
      const family = await waitFor(
        () => {
          const all = descendants(worker.pid)
          return all.filter((p) => p.args.startsWith('/bin/sh')).length === 4 ? all : undefined
        },
        10_000,
        'four task processes with their watchdogs',
      )
      worker.signal('SIGTERM')
      assert.equal((await worker.ended()).code, 0, worker.output)
      const alive = family.filter((p) => isAlive(p.pid))
      assert.deepEqual(alive, [], 'still running after their worker exited')
    })
  })
}
