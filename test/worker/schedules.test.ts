import assert from 'node:assert/strict'
import type { ScheduleInfo } from '../../src/queue/schedules.js'
import { databaseTime } from '../../src/storage/worker-repository.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { HostWorker } from '../helpers/host.js'
import { waitFor } from '../helpers/wait.js'
import { workerSuite } from '../helpers/worker.js'

const TASKS = `export function tick() { return 'tick' }\n`

const slotOf = (key: string | null) => /@(.+)$/.exec(key ?? '')?.[1]

for (const dialect of DIALECTS) {
  describeOn(dialect, `recurring schedules (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })
    let hosts: HostWorker[] = []
    afterEach(() => {
      for (const h of hosts) if (h.proc.exitCode === null) h.proc.kill('SIGKILL')
      hosts = []
    })
    const config = (schedules: object[]) => s.write('sq.config.json', JSON.stringify({ schedules }))
    const tasksOf = (name: string) =>
      s.queue.backend.db
        .selectFrom('sq_tasks')
        .select(['id', 'key', 'status', 'output'])
        .where('key', 'like', `schedule:${name}@%`)
        .orderBy('key')
        .execute()

    it('two workers on two hosts enqueue each slot of a schedule every second exactly once', async () => {
      const name = `each-second-${s.q}`
      config([{ name, cron: '* * * * * *', task: 'tasks#tick', queue: s.q }])
      const start = (host: string) => new HostWorker(host, ['--db', s.db.url, '--queue', s.q], { cwd: s.db.dir })
      hosts = [start('host-a'), start('host-b')]
      await waitFor(
        async () => (await tasksOf(name)).filter((t) => t.status === 'completed').length >= 6,
        30_000,
        'six scheduled runs',
      )
      for (const h of hosts) process.kill(h.pid, 'SIGTERM')
      for (const h of hosts) await waitFor(() => h.proc.exitCode !== null, 15_000, `the worker on ${h.host} to stop`)
      for (const h of hosts) assert.equal(h.proc.exitCode, 0, h.output)

      const tasks = await tasksOf(name)
      const slots = tasks.map((t) => slotOf(t.key)!)
      assert.equal(new Set(slots).size, slots.length, `a slot was enqueued twice: ${slots.join(' ')}`)
      for (const slot of slots) assert.match(slot, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/)
      // Every enqueue was logged by exactly one of the two hosts, and those are all the tasks.
      const logged = hosts.flatMap((h) =>
        [...h.output.matchAll(new RegExp(`schedule ${name}: enqueued (\\S+)`, 'g'))].map((m) => m[1]!),
      )
      assert.deepEqual([...logged].sort(), tasks.map((t) => t.id).sort())
      const byHost = hosts.map((h) => `${h.host}: ${(h.output.match(/: enqueued /g) ?? []).length}`)
      process.stdout.write(
        `      ${tasks.length} slots from ${slots[0]} to ${slots.at(-1)}, enqueued by ${byHost.join(', ')}\n`,
      )
    })

    it("catches up as each schedule's catchUp says, and sq schedules --json shows the last and next run", async () => {
      const now = await databaseTime(s.queue.backend)
      const year = new Date(now).getUTCFullYear()
      const newYear = (y: number) => new Date(Date.UTC(y, 0, 1)).toISOString()
      const n = (base: string) => `${base}-${s.q}`
      config([
        { name: n('yearly-latest'), cron: '0 0 1 1 *', task: 'tasks#tick', queue: s.q },
        { name: n('yearly-none'), cron: '@yearly', task: 'tasks#tick', queue: s.q, catchUp: 'none' },
        { name: n('seconds-all'), cron: '* * * * * *', task: 'tasks#tick', queue: s.q, catchUp: 'all' },
      ])
      // The workers of two years ago fired the yearly ones last; the every-second one stopped 20 s ago.
      const lastSecond = Math.floor(now / 1000) * 1000 - 20_000
      const created = new Date(now - 3 * 365 * 86_400_000).toISOString()
      await s.queue.backend.db
        .insertInto('sq_schedules')
        .values([
          { name: n('yearly-latest'), last_slot: newYear(year - 2), last_task_id: null, created },
          { name: n('yearly-none'), last_slot: newYear(year - 2), last_task_id: null, created },
          { name: n('seconds-all'), last_slot: new Date(lastSecond).toISOString(), last_task_id: null, created },
        ])
        .execute()
      const w = s.worker()
      await waitFor(
        async () => (await tasksOf(n('seconds-all'))).length >= 21 && (await tasksOf(n('yearly-latest'))).length === 1,
        20_000,
        'the catch-up',
      )
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)

      // latest: only the newest missed slot, this year's; none: nothing, yet the slots count as gone.
      assert.deepEqual(
        (await tasksOf(n('yearly-latest'))).map((t) => slotOf(t.key)),
        [newYear(year)],
      )
      assert.deepEqual(await tasksOf(n('yearly-none')), [])
      assert.match(w.output, new RegExp(`schedule ${n('yearly-none')}: skipped missed slots \\(catchUp: none\\)`))
      // all: every second since the last one, none twice.
      const seconds = (await tasksOf(n('seconds-all'))).map((t) => Date.parse(slotOf(t.key)!))
      assert.deepEqual(
        seconds.slice(0, 20),
        Array.from({ length: 20 }, (_, i) => lastSecond + (i + 1) * 1000),
      )
      assert.equal(new Set(seconds).size, seconds.length)

      const command = s.sq(['schedules', '--json'])
      assert.equal((await command.ended()).code, 0, command.output)
      const listed = JSON.parse(command.stdout) as ScheduleInfo[]
      const latest = listed.find((x) => x.name === n('yearly-latest'))!
      const [task] = await tasksOf(n('yearly-latest'))
      assert.deepEqual(latest, {
        name: n('yearly-latest'),
        cron: '0 0 1 1 *',
        timezone: null,
        task: 'tasks#tick',
        args: {},
        queue: s.q,
        priority: 0,
        catch_up: 'latest',
        last_run: newYear(year),
        last_task_id: task!.id,
        next_run: newYear(year + 1),
      })
      const none = listed.find((x) => x.name === n('yearly-none'))!
      assert.deepEqual([none.last_run, none.last_task_id, none.next_run], [newYear(year), null, newYear(year + 1)])
      const all = listed.find((x) => x.name === n('seconds-all'))!
      assert.equal(all.last_run, new Date(seconds.at(-1)!).toISOString())
      assert.ok(Date.parse(all.next_run!) > seconds.at(-1)!)
    })
  })
}
