/**
 * The bench's report: what was measured (Results) and how it is printed — the tables, each sq figure
 * beside its ratio to the peers and floors, then the goals the lead tracks with their targets.
 */
import type { IdleFigures } from './idle.js'
import type { Peer } from './peers/peer.js'
import { mb, median, num, percentile, ratio, span, table, verdict } from './report.js'
import type { Kind } from './sq.js'

export interface Results {
  tasks: number
  /** A run stops after this many seconds if its tasks are not all done. */
  runS: number
  rounds: number
  roundsWanted: number
  pickupsWanted: number
  rssTasks: number
  idleConcurrency: number
  pgFloorClients: number
  concurrencies: number[]
  peers: Peer[]
  /** Row key → concurrency (0: a floor, measured once per round) → one value per round. */
  throughput: Map<string, Map<number, number[]>>
  /** `sq sqlite`, `sq postgres` or a peer's label → its idle run. */
  idle: Map<string, IdleFigures>
  /** Row key → why it could not run. */
  failures: Map<string, string>
  /** Run time (ms) per entry of `yields`. */
  generator: Map<Kind, number[]>
  yields: number[]
  oneShot?: { enqueue: number; nodeStart: number }
  machine: string
  versions: string[]
  elapsedS?: number
}

const DB_NAMES: Record<Kind, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' }
const GOALS = {
  sqliteTps: 5000,
  pgC1VsGraphile: 2,
  pickup: { sqlite: [5, 20], postgres: [3, 15] } as Record<Kind, number[]>,
  idleRssMb: 60,
  flatGrowth: 0.1,
}

/** Printed in place of a figure a system could not produce. */
const failed = (r: Results, key: string) => `could not run: ${r.failures.get(key) ?? 'no figure'}`

function tps(r: Results, key: string, c: number): number | undefined {
  const values = r.throughput.get(key)?.get(c)
  return values && values.length > 0 ? median(values) : undefined
}

const pickupOf = (f: IdleFigures | undefined, p: number) => (f && f.pickups.length > 0 ? percentile(f.pickups, p) : undefined)
const growth = (f: IdleFigures | undefined) => (f ? f.loadedRssMb / f.idleRssMb - 1 : undefined)
const percent = (x: number | undefined) => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`)

function throughputTable(r: Results): string {
  const cs = r.concurrencies
  const rows: (string | { content: string; colSpan: number })[][] = []
  for (const kind of ['sqlite', 'postgres'] as Kind[]) {
    const sq = `sq ${kind}`
    const peers = r.peers.filter((p) => p.versus === kind)
    const floor = `floor ${kind}`
    const floorTps = tps(r, floor, 0)
    const line = (label: string, key: string) =>
      r.throughput.has(key) ? [label, ...cs.map((c) => num(tps(r, key, c)))] : [label, span(failed(r, key), cs.length)]
    rows.push([DB_NAMES[kind], ...cs.map(() => '')])
    rows.push(line('  sq worker', sq))
    for (const p of peers) rows.push(line(`  ${p.label}`, p.label))
    const floorLabel = kind === 'sqlite' ? '  floor: 1 connection (one writer)' : `  floor: ${r.pgFloorClients} clients, SKIP LOCKED`
    rows.push([floorLabel, span(floorTps === undefined ? failed(r, floor) : `${num(floorTps)} at any c`, cs.length)])
    for (const p of peers) rows.push([`  sq ÷ ${p.label}`, ...cs.map((c) => ratio(tps(r, sq, c), tps(r, p.label, c)))])
    rows.push(['  sq ÷ floor', ...cs.map((c) => ratio(tps(r, sq, c), floorTps))])
  }
  const rounds =
    r.rounds === r.roundsWanted ? `median of ${r.rounds} rounds` : `${r.rounds} of ${r.roundsWanted} rounds, the time budget allowed no more`
  return table([`no-op tasks/s; ${r.tasks.toLocaleString('en-US')} tasks or ${r.runS} s per run; ${rounds}`, ...cs.map((c) => `c=${c}`)], rows)
}

function idleTables(r: Results): string {
  const pickupRows: string[][] = []
  const rssRows: string[][] = []
  for (const kind of ['sqlite', 'postgres'] as Kind[]) {
    const sq = r.idle.get(`sq ${kind}`)
    pickupRows.push([DB_NAMES[kind], '', '', '', '', ''])
    rssRows.push([DB_NAMES[kind], '', '', '', ''])
    for (const [label, key] of [['sq worker', `sq ${kind}`], ...r.peers.filter((p) => p.versus === kind).map((p) => [p.label, p.label])] as [string, string][]) {
      const f = r.idle.get(key)
      if (!f) {
        const why = r.failures.get(`idle:${key}`) ?? r.failures.get(key) ?? 'no figure'
        pickupRows.push([`  ${label}`, `could not run: ${why}`, '', '', '', ''])
        rssRows.push([`  ${label}`, `could not run: ${why}`, '', '', ''])
        continue
      }
      const isSq = key.startsWith('sq ')
      pickupRows.push([
        `  ${label}`,
        num(pickupOf(f, 50)),
        num(pickupOf(f, 99)),
        String(f.pickups.length),
        isSq ? '' : ratio(pickupOf(sq, 50), pickupOf(f, 50)),
        isSq ? '' : ratio(pickupOf(sq, 99), pickupOf(f, 99)),
      ])
      rssRows.push([`  ${label}`, mb(f.idleRssMb), mb(f.loadedRssMb), percent(growth(f)), isSq ? '' : ratio(sq?.idleRssMb, f.idleRssMb)])
    }
  }
  return [
    table(['idle pickup, ms from created to started (records)', 'p50', 'p99', 'samples', 'sq ÷ it, p50', 'p99'], pickupRows),
    '',
    table(
      [`worker process RSS, not its children (c=${r.idleConcurrency})`, 'idle', `after ${r.rssTasks.toLocaleString('en-US')} tasks`, 'growth', 'sq ÷ it, idle'],
      rssRows,
    ),
  ].join('\n')
}

function generatorLines(r: Results): string[] {
  const lines = [`generator output: one task's run time at ${r.yields.map((y) => y.toLocaleString('en-US')).join(' / ')} yields (linear: ≤ 10× per 10× yields)`]
  for (const kind of ['sqlite', 'postgres'] as Kind[]) {
    const t = r.generator.get(kind)
    lines.push(
      t
        ? `  ${DB_NAMES[kind].padEnd(10)}  ${t.map((ms) => `${num(ms)} ms`).join(' / ')}   (×${t.slice(1).map((ms, i) => num(ms / t[i]!)).join(', ×')})`
        : `  ${DB_NAMES[kind].padEnd(10)}  ${failed(r, `generator ${kind}`)}`,
    )
  }
  return lines
}

function goalsTable(r: Results): string {
  const sqlite4 = tps(r, 'sq sqlite', 4)
  const bull = r.peers.find((p) => p.versus === 'sqlite')
  const graphile = r.peers.find((p) => p.label.startsWith('graphile-worker'))
  const vsGraphile = (c: number) => (graphile ? (tps(r, 'sq postgres', c) ?? NaN) / (tps(r, graphile.label, c) ?? NaN) : NaN)
  const pickup = (kind: Kind) => {
    const f = r.idle.get(`sq ${kind}`)
    const [p50, p99] = [pickupOf(f, 50), pickupOf(f, 99)]
    const [t50, t99] = GOALS.pickup[kind]!
    return [
      `idle pickup ${DB_NAMES[kind]}, p50 / p99`,
      `${num(p50)} / ${num(p99)} ms`,
      `≤ ${t50} / ${t99} ms`,
      verdict(p50 === undefined || p99 === undefined ? undefined : p50 <= t50! && p99 <= t99!),
    ]
  }
  const idle = (['sqlite', 'postgres'] as Kind[]).map((k) => r.idle.get(`sq ${k}`))
  const gen = (['sqlite', 'postgres'] as Kind[]).map((k) => r.generator.get(k))
  const genRatios = gen.map((t) => (t ? t.slice(1).map((ms, i) => ms / t[i]!) : undefined))
  const known = <T>(xs: (T | undefined)[]) => (xs.every((x) => x !== undefined) ? (xs as T[]) : undefined)
  const rss = known(idle.map((f) => f?.idleRssMb))
  const grown = known(idle.map(growth))
  const linear = known(genRatios)
  const finite = (x: number) => (Number.isFinite(x) ? x : undefined)
  return table(
    ['goal', 'this run', 'target', ''],
    [
      ['SQLite no-op tasks/s, c=4', num(sqlite4), `≥ ${GOALS.sqliteTps.toLocaleString('en-US')}`, verdict(sqlite4 === undefined ? undefined : sqlite4 >= GOALS.sqliteTps)],
      [`  sq ÷ ${bull?.label ?? 'BullMQ'}, c=4`, bull ? ratio(sqlite4, tps(r, bull.label, 4)) : '—', '', ''],
      [`PostgreSQL c=8, sq ÷ ${graphile?.label ?? 'graphile-worker'}`, `${num(finite(vsGraphile(8)))}×`, '', ''],
      [
        `PostgreSQL c=1, sq ÷ ${graphile?.label ?? 'graphile-worker'}`,
        `${num(finite(vsGraphile(1)))}×`,
        `≥ ${GOALS.pgC1VsGraphile}×`,
        verdict(finite(vsGraphile(1)) === undefined ? undefined : vsGraphile(1) >= GOALS.pgC1VsGraphile),
      ],
      pickup('sqlite'),
      pickup('postgres'),
      ['idle worker RSS, SQLite / PostgreSQL', idle.map((f) => mb(f?.idleRssMb)).join(' / '), `≤ ${GOALS.idleRssMb} MB`, verdict(rss && rss.every((x) => x <= GOALS.idleRssMb))],
      [
        `RSS after ${r.rssTasks.toLocaleString('en-US')} tasks, SQLite / PostgreSQL`,
        idle.map((f) => percent(growth(f))).join(' / '),
        `flat (≤ +${GOALS.flatGrowth * 100}%)`,
        verdict(grown && grown.every((g) => g <= GOALS.flatGrowth)),
      ],
      [
        'generator, time per 10× yields, SQLite / PostgreSQL',
        genRatios.map((xs) => (xs ? xs.map((x) => `×${num(x)}`).join(' ') : '—')).join(' / '),
        '≤ ×10 (linear)',
        verdict(linear && linear.flat().every((x) => x <= 10)),
      ],
    ],
  )
}

export function printReport(r: Results): void {
  const out: string[] = [
    `sq benchmarks — ${r.machine}; ${r.versions.join(', ')}${r.elapsedS ? `; ${Math.round(r.elapsedS)} s` : ''}`,
    'The machine may be shared: absolute figures move with its load; the ratios are measured in the same run.',
    '',
    throughputTable(r),
    '',
    idleTables(r),
    '',
    ...generatorLines(r),
    '',
    r.oneShot
      ? `one-shot \`sq enqueue\` on SQLite: ${num(r.oneShot.enqueue)} ms (node -e 0: ${num(r.oneShot.nodeStart)} ms, ×${num(r.oneShot.enqueue / r.oneShot.nodeStart)})`
      : `one-shot \`sq enqueue\`: ${failed(r, 'one-shot')}`,
    '',
    'how each was run:',
    '  sq worker: `sq worker --burst -c N` over a pre-filled queue (throughput); `sq worker -c 4` idle (pickup, RSS)',
    ...r.peers.map((p) => `  ${p.label}: ${p.method}`),
    '  floors: claim one queued task and complete it, one by one, on a copy of the tasks sq runs (PostgreSQL: its NOTIFY trigger off)',
    '  throughput is first start → last end from each system\'s own records; pickup is created → started of each record',
    '',
    goalsTable(r),
  ]
  console.log(out.join('\n'))
}
