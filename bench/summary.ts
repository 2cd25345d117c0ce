/**
 * The bench's report: what was measured (Results) and how it is printed — a table per section, each sq
 * figure beside its ratio to the peers and the floors, then the goals the lead tracks, with targets.
 */
import type { IdleFigures } from './idle.js'
import type { Peer, PeerId } from './peers/peer.js'
import { mb, median, num, percentile, ratio, span, table, verdict } from './report.js'
import type { Kind } from './sq.js'

export interface Results {
  tasks: number
  /** A run stops after this many seconds if its tasks are not all done. */
  runS: number
  rounds: number
  roundsWanted: number
  rssTasks: number
  idleConcurrency: number
  pgFloorClients: number
  concurrencies: number[]
  peers: Peer[]
  /** Row key (`sq sqlite`, a peer's label, `floor postgres`…) → c (0 for a floor) → one value per round. */
  throughput: Map<string, Map<number, number[]>>
  /** `sq sqlite`, `sq postgres` or a peer's label → its idle run. */
  idle: Map<string, IdleFigures>
  /** Row key (or `idle:` + key) → why it could not run. */
  failures: Map<string, string>
  /** Run time (ms) for each entry of `yields`. */
  generator: Map<Kind, number[]>
  yields: number[]
  machine: string
  versions: string[]
  elapsedS?: number
}

const KINDS: Kind[] = ['sqlite', 'postgres']
const DB: Record<Kind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' }
const GOALS = {
  sqliteC4Tps: 5000,
  postgresC1VsGraphile: 2,
  postgresC8VsGraphile: 1,
  pickupMs: { sqlite: [5, 20], postgres: [3, 15] } as Record<Kind, [number, number]>,
  idleRssMb: 60,
  /** "Flat": memory after the load at most this much above idle. */
  rssGrowth: 0.1,
  generatorPer10x: 10,
}

const count = (n: number) => n.toLocaleString('en-US')
const percent = (x: number | undefined) => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`)
const growth = (f: IdleFigures | undefined) => (f ? f.loadedRssMb / f.idleRssMb - 1 : undefined)
const pickup = (f: IdleFigures | undefined, p: number) => (f?.pickups.length ? percentile(f.pickups, p) : undefined)
/** Each 10× step of the generator's yields: how many times longer it ran. */
const steps = (times: number[] | undefined) => times?.slice(1).map((ms, i) => ms / times[i]!)

/** Everything the printing needs, looked up once. */
function view(r: Results) {
  const tps = (key: string, c: number) => {
    const values = r.throughput.get(key)?.get(c)
    return values?.length ? median(values) : undefined
  }
  const failed = (...keys: string[]) => {
    const why = keys.map((k) => r.failures.get(k)).find(Boolean)
    return `could not run: ${why ?? 'no figure'}`
  }
  const peer = (id: PeerId) => r.peers.find((p) => p.id === id)!
  const peersOf = (kind: Kind) => r.peers.filter((p) => p.versus === kind)
  /** The sq worker first, then the peers compared with it: [label, key]. */
  const systems = (kind: Kind) => [['sq worker', `sq ${kind}`], ...peersOf(kind).map((p) => [p.label, p.label])]
  return { tps, failed, peer, peersOf, systems }
}

function throughputTable(r: Results): string {
  const v = view(r)
  const cs = r.concurrencies
  const rows: (string | { content: string; colSpan: number })[][] = []
  const line = (label: string, key: string) =>
    r.throughput.has(key) ? [label, ...cs.map((c) => num(v.tps(key, c)))] : [label, span(v.failed(key), cs.length)]
  for (const kind of KINDS) {
    const sq = `sq ${kind}`
    const floor = v.tps(`floor ${kind}`, 0)
    const floorHow =
      kind === 'sqlite' ? 'floor: 1 connection (one writer)' : `floor: ${r.pgFloorClients} clients, SKIP LOCKED`
    const floorCell = floor === undefined ? v.failed(`floor ${kind}`) : `${num(floor)} at any c`
    rows.push([DB[kind], ...cs.map(() => '')])
    rows.push(line('  sq worker', sq))
    for (const p of v.peersOf(kind)) rows.push(line(`  ${p.label}`, p.label))
    rows.push([`  ${floorHow}`, span(floorCell, cs.length)])
    for (const p of v.peersOf(kind)) {
      rows.push([`  sq ÷ ${p.label}`, ...cs.map((c) => ratio(v.tps(sq, c), v.tps(p.label, c)))])
    }
    rows.push(['  sq ÷ floor', ...cs.map((c) => ratio(v.tps(sq, c), floor))])
  }
  const rounds =
    r.rounds === r.roundsWanted
      ? r.rounds === 1
        ? '1 round'
        : `median of ${r.rounds} rounds`
      : `${r.rounds} of ${r.roundsWanted} rounds, the time budget allowed no more`
  const head = `no-op tasks/s; ${count(r.tasks)} tasks or ${r.runS} s per run; ${rounds}`
  return table([head, ...cs.map((c) => `c=${c}`)], rows)
}

function pickupTable(r: Results): string {
  const v = view(r)
  const rows: string[][] = []
  for (const kind of KINDS) {
    const sq = r.idle.get(`sq ${kind}`)
    rows.push([DB[kind], '', '', '', '', ''])
    for (const [label, key] of v.systems(kind)) {
      const f = r.idle.get(key!)
      if (!f) {
        rows.push([`  ${label}`, v.failed(`idle:${key}`, key!), '', '', '', ''])
        continue
      }
      const vs = (p: number) => (f === sq ? '' : ratio(pickup(sq, p), pickup(f, p)))
      rows.push([`  ${label}`, num(pickup(f, 50)), num(pickup(f, 99)), String(f.pickups.length), vs(50), vs(99)])
    }
  }
  const head = 'idle pickup, ms from created to started (records)'
  return table([head, 'p50', 'p99', 'samples', 'sq ÷ it, p50', 'p99'], rows)
}

function rssTable(r: Results): string {
  const v = view(r)
  const rows: string[][] = []
  for (const kind of KINDS) {
    const sq = r.idle.get(`sq ${kind}`)
    rows.push([DB[kind], '', '', '', ''])
    for (const [label, key] of v.systems(kind)) {
      const f = r.idle.get(key!)
      if (!f) rows.push([`  ${label}`, v.failed(`idle:${key}`, key!), '', '', ''])
      else {
        const vs = f === sq ? '' : ratio(sq?.idleRssMb, f.idleRssMb)
        rows.push([`  ${label}`, mb(f.idleRssMb), mb(f.loadedRssMb), percent(growth(f)), vs])
      }
    }
  }
  const head = `worker process RSS, not its children (c=${r.idleConcurrency})`
  return table([head, 'idle', `after ${count(r.rssTasks)} tasks`, 'growth', 'sq ÷ it, idle'], rows)
}

function generatorLines(r: Results): string[] {
  const yields = r.yields.map(count).join(' / ')
  const lines = [`generator output: one task's run time at ${yields} yields (linear: ≤ 10× per 10× yields)`]
  for (const kind of KINDS) {
    const times = r.generator.get(kind)
    const figures = times
      ? `${times.map((ms) => `${num(ms)} ms`).join(' / ')}   (${steps(times)!
          .map((x) => `×${num(x)}`)
          .join(', ')})`
      : view(r).failed(`generator ${kind}`)
    lines.push(`  ${DB[kind].padEnd(10)}  ${figures}`)
  }
  return lines
}

function methodLines(r: Results): string[] {
  return [
    'how each was run:',
    '  sq worker: `sq worker --burst -c N` over a pre-filled queue (throughput); `sq worker -c 4` idle (pickup, RSS)',
    ...r.peers.map((p) => `  ${p.label}: ${p.method}`),
    '  floors: claim one queued task and complete it, one by one, on a copy of the tasks sq runs',
    "    (PostgreSQL: sq's NOTIFY trigger off); a worker that claims or records in batches can pass it",
    "  throughput: steady state from each system's own records: the completed jobs started after the first",
    '    fifth had started (warm-up), from that moment to the last end; a run stops when its queue is empty',
    '    or BENCH_RUN_S after its first completed job',
    '  pickup: created → started of each record; the enqueuer waits 20–50 ms between tasks',
    '  RSS: the worker process, idle after its first task, and 2 s after the load has run (every queue alike)',
  ]
}

/** A goal's row: what it is, this run's figure, the target and whether it was met. */
type Goal = [name: string, figure: string, target: string, met: string]

function goals(r: Results): Goal[] {
  const v = view(r)
  const graphile = v.peer('graphile-worker')
  const bull = v.peer('bullmq')
  const sqlite4 = v.tps('sq sqlite', 4)
  const vsGraphile = (c: number) => {
    const [sq, peer] = [v.tps('sq postgres', c), v.tps(graphile.label, c)]
    return sq === undefined || peer === undefined ? undefined : sq / peer
  }
  const c1 = vsGraphile(1)
  const c8 = vsGraphile(8)
  const idle = KINDS.map((k) => r.idle.get(`sq ${k}`))
  const all = <T>(xs: (T | undefined)[], test: (x: T) => boolean) =>
    xs.some((x) => x === undefined) ? undefined : (xs as T[]).every(test)
  const pickupGoal = (kind: Kind): Goal => {
    const f = r.idle.get(`sq ${kind}`)
    const [p50, p99] = [pickup(f, 50), pickup(f, 99)]
    const [t50, t99] = GOALS.pickupMs[kind]
    const met = p50 === undefined || p99 === undefined ? undefined : p50 <= t50 && p99 <= t99
    return [`idle pickup ${DB[kind]}, p50 / p99`, `${num(p50)} / ${num(p99)} ms`, `≤ ${t50} / ${t99} ms`, verdict(met)]
  }
  const generator = KINDS.map((k) => steps(r.generator.get(k)))
  return [
    [
      'SQLite no-op tasks/s, c=4',
      num(sqlite4),
      `≥ ${count(GOALS.sqliteC4Tps)}`,
      verdict(all([sqlite4], (x) => x >= GOALS.sqliteC4Tps)),
    ],
    [`  sq ÷ ${bull.label}, c=4`, ratio(sqlite4, v.tps(bull.label, 4)), '', ''],
    [
      `PostgreSQL c=8, sq ÷ ${graphile.label}`,
      ratio(c8, 1),
      `≥ ${GOALS.postgresC8VsGraphile}×`,
      verdict(all([c8], (x) => x >= GOALS.postgresC8VsGraphile)),
    ],
    [
      `PostgreSQL c=1, sq ÷ ${graphile.label}`,
      ratio(c1, 1),
      `≥ ${GOALS.postgresC1VsGraphile}×`,
      verdict(all([c1], (x) => x >= GOALS.postgresC1VsGraphile)),
    ],
    pickupGoal('sqlite'),
    pickupGoal('postgres'),
    [
      'idle worker RSS, SQLite / PostgreSQL',
      idle.map((f) => mb(f?.idleRssMb)).join(' / '),
      `≤ ${GOALS.idleRssMb} MB`,
      verdict(all(idle, (f) => f.idleRssMb <= GOALS.idleRssMb)),
    ],
    [
      `RSS after ${count(r.rssTasks)} tasks, SQLite / PostgreSQL`,
      idle.map((f) => percent(growth(f))).join(' / '),
      `flat (≤ +${GOALS.rssGrowth * 100}%)`,
      verdict(all(idle.map(growth), (g) => g <= GOALS.rssGrowth)),
    ],
    [
      'generator, time per 10× yields, SQLite / PostgreSQL',
      generator.map((xs) => xs?.map((x) => `×${num(x)}`).join(' ') ?? '—').join(' / '),
      `≤ ×${GOALS.generatorPer10x} (linear)`,
      verdict(all(generator, (xs) => xs.every((x) => x <= GOALS.generatorPer10x))),
    ],
  ]
}

export function printReport(r: Results): void {
  const took = r.elapsedS ? `; ${Math.round(r.elapsedS)} s` : ''
  console.log(
    [
      `sq benchmarks — ${r.machine}; ${r.versions.join(', ')}${took}`,
      'The machine may be shared: absolute figures move with its load; the ratios are measured in the same run.',
      '',
      throughputTable(r),
      '',
      pickupTable(r),
      '',
      rssTable(r),
      '',
      ...generatorLines(r),
      '',
      ...methodLines(r),
      '',
      table(['goal', 'this run', 'target', ''], goals(r)),
    ].join('\n'),
  )
}
