/**
 * No-op throughput of this checkout beside another commit's build, in interleaved rounds of one run: what a
 * change cost the hot path, free of the drift of a shared machine between runs. Each task runs in its own
 * process (the default mode), on SQLite and on PostgreSQL.
 *
 * The other commit is built in a detached git worktree in a scratch directory, with this checkout's
 * node_modules linked in (so a commit with other dependencies is measured with these), and removed after.
 *
 * `npm run bench:baseline -- REF` (BASELINE_C, default 4; BASELINE_ROUNDS, default 6; BASELINE_DATABASES,
 * default sqlite,postgres; BENCH_TASKS, BENCH_RUN_S as for `npm run bench`); bench/scale.ts runs it against
 * the commit its goals were set at. The ratio is the median of the rounds' ratios: each round's two runs
 * meet the same load.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cleanup } from './env.js'
import { median, num, table } from './report.js'
import { type Build, type Kind, sqThroughput, THIS_BUILD } from './sq.js'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface BaselineOptions {
  c: number
  rounds: number
  tasks: number
  runMs: number
  kinds: Kind[]
}

const DEFAULTS: BaselineOptions = {
  c: Number(process.env.BASELINE_C ?? 4),
  rounds: Number(process.env.BASELINE_ROUNDS ?? 6),
  tasks: Number(process.env.BENCH_TASKS ?? 5000),
  runMs: Number(process.env.BENCH_RUN_S ?? 5) * 1000,
  kinds: (process.env.BASELINE_DATABASES ?? 'sqlite,postgres').split(',') as Kind[],
}

export interface BaselineRow {
  kind: Kind
  /** Medians of the rounds, tasks/s. */
  baseline: number
  current: number
  /** The median of the rounds' ratios, this checkout's ÷ the baseline's. */
  ratio: number
  rounds: number
}

/** `ref` built in a scratch worktree; `remove` deletes the worktree. */
async function build(ref: string): Promise<Build & { remove(): void }> {
  const git = (...args: string[]) => execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8' }).trim()
  const commit = git('rev-parse', '--short', `${ref}^{commit}`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sq-baseline-${commit}-`))
  const remove = () => {
    git('worktree', 'remove', '--force', dir)
    fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    git('worktree', 'add', '--detach', '--force', dir, commit)
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'))
    execFileSync('npm', ['run', 'build'], { cwd: dir, stdio: 'ignore' })
    const library = (await import(
      pathToFileURL(path.join(dir, 'dist/src/index.js')).href
    )) as typeof import('../src/index.js')
    return { label: commit, bin: path.join(dir, 'bin/run.js'), openQueue: library.openQueue, remove }
  } catch (error) {
    remove()
    throw error
  }
}

/** Both builds' no-op tasks/s at concurrency c, round by round, each build first in every other round. */
export async function noopBaseline(ref: string, o: BaselineOptions = DEFAULTS): Promise<BaselineRow[]> {
  const baseline = await build(ref)
  try {
    const rows: BaselineRow[] = []
    for (const kind of o.kinds) {
      const runs = { baseline: [] as number[], current: [] as number[] }
      for (let round = 1; round <= o.rounds; round++) {
        // Each goes first in turn: a run may pay for the one before it (its processes still exiting).
        const [first, second] =
          round % 2 === 1 ? (['baseline', 'current'] as const) : (['current', 'baseline'] as const)
        const measure = (which: 'baseline' | 'current') =>
          sqThroughput(kind, o.c, o.tasks, o.runMs, which === 'baseline' ? baseline : THIS_BUILD)
        runs[first].push(await measure(first))
        runs[second].push(await measure(second))
        process.stderr.write(
          `  ${kind} round ${round}: ${num(runs.baseline.at(-1))} / ${num(runs.current.at(-1))} tasks/s\n`,
        )
      }
      const ratios = runs.current.map((current, i) => current / runs.baseline[i]!)
      rows.push({
        kind,
        baseline: median(runs.baseline),
        current: median(runs.current),
        ratio: median(ratios),
        rounds: o.rounds,
      })
    }
    return rows
  } finally {
    baseline.remove()
  }
}

export function noopBaselineTable(ref: string, rows: BaselineRow[]): string {
  return table(
    ['database', `${ref}, tasks/s`, 'this checkout, tasks/s', 'ratio (median of rounds)', 'rounds'],
    rows.map((r) => [r.kind, num(r.baseline), num(r.current), `${num(r.ratio)}×`, String(r.rounds)]),
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ref = process.argv[2]
  if (!ref) throw new Error('usage: npm run bench:baseline -- REF (a commit to compare with)')
  try {
    process.stdout.write(`No-op tasks/s at c=${DEFAULTS.c}, one task per process: this checkout beside ${ref}\n`)
    process.stdout.write(`${noopBaselineTable(ref, await noopBaseline(ref))}\n`)
  } finally {
    await cleanup()
  }
}
