/**
 * `node --import tsx bench/idle-run.ts [sqlite,postgres]`: the idle rows of the bench, alone — sq's pickup
 * p50/p99 and its worker's RSS idle and after BENCH_RSS_TASKS tasks (default 10,000), at c=4.
 */
import { cleanup } from './env.js'
import { measureIdle } from './idle.js'
import { sqIdle, type Kind } from './sq.js'

const kinds = (process.argv[2] ?? 'sqlite,postgres').split(',') as Kind[]
const samples = Number(process.env.BENCH_PICKUPS ?? 60)
const load = Number(process.env.BENCH_RSS_TASKS ?? 10_000)
try {
  for (const kind of kinds) {
    const f = await measureIdle(sqIdle(kind), { concurrency: 4, samples, load })
    const at = (q: number) => f.pickups[Math.min(f.pickups.length - 1, Math.floor(f.pickups.length * q))]
    process.stdout.write(
      `${kind}: pickup p50 ${at(0.5)} ms p99 ${at(0.99)} ms; RSS ${f.idleRssMb.toFixed(1)} MB idle, ${f.loadedRssMb.toFixed(1)} MB after ${load} tasks\n`,
    )
  }
} finally {
  await cleanup()
}
