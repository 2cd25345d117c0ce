import fs from 'node:fs'
import path from 'node:path'
import { openQueue, type Queue } from '../../src/index.js'
import { PgCluster } from './cluster.js'
import { SmallDisk } from './disk.js'
import { type Fault, injectFaults } from './faults.js'
import { Fleet, markedProcesses } from './fleet.js'
import { Random } from './random.js'
import { type Figures, tally } from './tally.js'
import { Enqueuer, writeModules } from './workload.js'

/**
 * One soak on one database: its own database (a PostgreSQL cluster of its own, or a SQLite file on a
 * small tmpfs), workers, workload and faults for `durationS`, then a bounded drain, a graceful stop of
 * every worker and the tally. `cleanups` gets what must be undone should the soak be interrupted.
 */

export interface SoakOptions {
  db: 'sqlite' | 'postgres'
  dir: string
  durationS: number
  drainS: number
  workers: number
  concurrency: number
  rate: number
  heartbeatTimeout: number
  /** Seeds this soak's two streams of chance: the faults', and the workload's. */
  seed: number
  cleanups: Array<() => Promise<void> | void>
  say: (line: string) => void
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function soak(o: SoakOptions): Promise<Figures> {
  const root = path.join(o.dir, 'root')
  const logs = path.join(o.dir, 'logs')
  const tokens = path.join(o.dir, 'tokens.txt')
  fs.mkdirSync(root, { recursive: true })
  fs.mkdirSync(logs, { recursive: true })
  writeModules(root)

  let cluster: PgCluster | undefined
  let disk: SmallDisk | undefined
  let url: string
  if (o.db === 'postgres') {
    cluster = await PgCluster.create('sqchaos')
    o.cleanups.push(() => cluster!.drop())
    url = cluster.url()
    o.say(`PostgreSQL cluster ${cluster.version}/${cluster.name} on port ${cluster.port}`)
  } else {
    const mounted = SmallDisk.mount(path.join(o.dir, 'disk'))
    if (typeof mounted === 'string') {
      o.say(`disk-full fault SKIPPED: cannot mount a tmpfs (${mounted}); the database stays on ${o.dir}`)
      url = path.join(o.dir, 'sq.db')
    } else {
      disk = mounted
      o.cleanups.push(() => disk!.unmount())
      url = path.join(disk.dir, 'sq.db')
      o.say(`SQLite database on a 64 MiB tmpfs at ${disk.dir}`)
    }
  }

  const queue: Queue = await openQueue({ db: url, root })
  const mark = `${process.pid}-${o.db}`
  const fleet = new Fleet({
    db: url,
    root,
    logs,
    label: o.db,
    count: o.workers,
    concurrency: o.concurrency,
    mark,
    heartbeatTimeout: o.heartbeatTimeout,
  })
  o.cleanups.push(() => fleet.killAll())
  fleet.start()
  // Two streams, so the faults replay alike however many tasks the workload drew meanwhile.
  const enqueuer = new Enqueuer(queue, root, tokens, new Random(o.seed ^ 0x5bd1e995), o.rate)
  enqueuer.start()

  const started = Date.now()
  const endAt = started + o.durationS * 1000
  const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`
  const faults: Fault[] = await injectFaults(
    { fleet, cluster, disk },
    new Random(o.seed),
    () => Date.now() >= endAt,
    (f) => o.say(`${at()} ${f.kind}${f.pid ? ` of worker ${f.pid}` : ''} (${((f.end - f.at) / 1000).toFixed(1)}s)`),
  )
  await enqueuer.stop()
  o.say(`${at()} faults stopped; ${enqueuer.enqueued.length} enqueued; draining (at most ${o.drainS}s)`)

  const drained = await drain(queue, o.drainS * 1000)
  o.say(`${at()} ${drained ? 'drained' : 'drain timed out'}; stopping the workers`)
  await fleet.stop(60_000)
  // Seen at once, and again a second later: only what outlives that second fails the soak.
  const atExit = markedProcesses(mark).length
  await sleep(1_000)
  const leftovers = markedProcesses(mark)
  for (const p of leftovers) process.kill(p.pid, 'SIGKILL')

  const figures = await tally({
    queue,
    enqueued: enqueuer.enqueued,
    refused: enqueuer.refused,
    tokens,
    faults,
    deaths: fleet.deaths,
    leftovers,
    leftoversAtExit: atExit,
    logs: fleet.logs,
  })
  await queue.close()
  await cluster?.drop()
  disk?.unmount()
  return figures
}

/** Waits until no task is queued or running (a read the database refuses counts as not yet). */
async function drain(queue: Queue, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const open = await queue.backend.db
        .selectFrom('sq_tasks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['queued', 'progress'])
        .executeTakeFirstOrThrow()
      if (Number(open.n) === 0) return true
    } catch {
      // the database is still coming back
    }
    await sleep(1_000)
  }
  return false
}
