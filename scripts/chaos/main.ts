/**
 * `npm run chaos -- [--db sqlite|postgres|both] [--duration SECONDS] [--seed N]`: the chaos soak
 * (docs/reliability.md). Real workers built from this checkout, a workload of three kinds of task and
 * a fault every 5–20 s, on each database in turn; then a table of what was lost, stuck, re-run,
 * mixed or left behind. Exit 0 only when every figure that must be zero is.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { freshSeed } from './random.js'
import { printReport } from './report.js'
import { soak } from './soak.js'
import type { Figures } from './tally.js'

const USAGE =
  'usage: npm run chaos -- [--db sqlite|postgres|both] [--duration SECONDS] [--seed N] [--rate TASKS_PER_S] [--keep]'

function options() {
  const { values } = parseArgs({
    options: {
      db: { type: 'string', default: 'both' },
      duration: { type: 'string', default: '300' },
      seed: { type: 'string' },
      rate: { type: 'string', default: '40' },
      drain: { type: 'string', default: '120' },
      workers: { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '4' },
      'heartbeat-timeout': { type: 'string', default: '30' },
      keep: { type: 'boolean', default: false },
    },
  })
  const number = (name: string, text: string) => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${JSON.stringify(text)}`)
    return n
  }
  const dbs = values.db === 'both' ? (['sqlite', 'postgres'] as const) : [values.db]
  for (const db of dbs)
    if (db !== 'sqlite' && db !== 'postgres')
      throw new Error(`--db must be sqlite, postgres or both, not ${JSON.stringify(db)}`)
  return {
    dbs: dbs as Array<'sqlite' | 'postgres'>,
    durationS: number('duration', values.duration),
    seed: values.seed === undefined ? freshSeed() : number('seed', values.seed),
    rate: number('rate', values.rate),
    drainS: number('drain', values.drain),
    workers: Math.max(1, number('workers', values.workers)),
    concurrency: Math.max(1, number('concurrency', values.concurrency)),
    heartbeatTimeout: number('heartbeat-timeout', values['heartbeat-timeout']),
    keep: values.keep,
  }
}

async function main(): Promise<number> {
  let o: ReturnType<typeof options>
  try {
    o = options()
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`)
    return 2
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-chaos-'))
  const cleanups: Array<() => Promise<void> | void> = []
  const undo = async () => {
    for (const step of cleanups.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => {})
  }
  const interrupted = async (signal: string) => {
    process.stderr.write(`\n${signal}: stopping the soak, dropping its cluster and tmpfs\n`)
    await undo()
    process.stderr.write(`worker logs and tokens kept in ${dir}\n`)
    process.exit(130)
  }
  process.once('SIGINT', () => void interrupted('SIGINT'))
  process.once('SIGTERM', () => void interrupted('SIGTERM'))

  process.stderr.write(
    `chaos soak: seed ${o.seed} (replay with --seed ${o.seed}), ${o.durationS}s per database, work dir ${dir}\n`,
  )
  const results: Array<{ db: string; figures: Figures }> = []
  try {
    for (const [i, db] of o.dbs.entries()) {
      const say = (line: string) => process.stderr.write(`[${db}] ${line}\n`)
      const figures = await soak({ ...o, db, dir: path.join(dir, db), seed: o.seed + i, cleanups, say })
      results.push({ db, figures })
    }
  } catch (error) {
    process.stderr.write(`the soak itself failed: ${(error as Error).stack}\n`)
    await undo()
    process.stderr.write(`logs kept in ${dir}\n`)
    return 1
  }
  await undo()
  const pass = printReport(results)
  if (pass && !o.keep) fs.rmSync(dir, { recursive: true, force: true })
  else process.stdout.write(`\nworker logs and tokens kept in ${dir}\n`)
  process.stdout.write(`seed ${o.seed}: ${pass ? 'PASS' : 'FAIL'}\n`)
  return pass ? 0 : 1
}

process.exitCode = await main()
