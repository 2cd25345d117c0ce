/**
 * The enqueue side (issue 7): one-shot start-up of the CLI, bulk enqueue, and createTask in a loop,
 * each beside a baseline measured in the same run — `node -e 0`, graphile-worker's one-shot
 * `quickAddJob` and its `add_jobs`, and a raw INSERT of the same row through the same driver.
 * `npm run bench:enqueue [-- --only startup,bulk,single]` runs it alone; `npm run bench` runs it too.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import Database from 'better-sqlite3'
import { makeWorkerUtils, runMigrations, Logger } from 'graphile-worker'
import { openQueue, type Queue } from '../dist/src/index.js'
import { createPgDatabase, dropPgDatabase, pgClient, pgUrl, removeSqlite, scratch, sqliteFile } from './env.js'
import { median, num, ratio, table, verdict } from './report.js'
import { BIN } from './sq.js'

export type Section = 'startup' | 'bulk' | 'single'
export const SECTIONS: Section[] = ['startup', 'bulk', 'single']

const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 9)
const BULK = Number(process.env.BENCH_BULK_TASKS ?? 50_000)
const BULK_ROUNDS = Number(process.env.BENCH_BULK_ROUNDS ?? 3)
const SINGLE = Number(process.env.BENCH_SINGLE_TASKS ?? 2000)
const CHUNK = 10_000
const SILENT = new Logger(() => () => {})

export interface EnqueueResults {
  /** Median ms of each one-shot command. */
  startup: Map<string, number>
  /** Tasks per second. */
  bulk: Map<string, number>
  single: Map<string, number>
  failures: Map<string, string>
}

async function withPg<T>(tag: string, fn: (url: string) => Promise<T>): Promise<T> {
  const name = await createPgDatabase(tag)
  try {
    return await fn(pgUrl(name))
  } finally {
    await dropPgDatabase(name)
  }
}

async function withQueue<T>(db: string, fn: (q: Queue) => Promise<T>): Promise<T> {
  const q = await openQueue({ db, root: scratch() })
  try {
    return await fn(q)
  } finally {
    await q.close()
  }
}

/** Runs each command once per round, rounds interleaved, so that load drifts hit them all alike. */
async function startup(r: EnqueueResults): Promise<void> {
  const file = sqliteFile('startup')
  removeSqlite(file)
  await withPg('startup', async (pgDb) => {
    await withPg('startup_graphile', async (graphileDb) => {
      await runMigrations({ connectionString: graphileDb, logger: SILENT })
      const id = await withQueue(file, async (q) => (await q.enqueue({ task: 'tasks#noop' })).id)
      await withQueue(pgDb, async () => {}) // migrated
      const quickAdd = `import('graphile-worker').then((g) => g.quickAddJob({ connectionString: ${JSON.stringify(graphileDb)} }, 'noop', {}))`
      const commands: Record<string, string[]> = {
        'node -e 0': ['-e', '0'],
        'sq --version': [BIN, '--version'],
        'sq --help': [BIN, '--help'],
        'sq enqueue (SQLite)': [BIN, 'enqueue', 'tasks#noop', '--db', file],
        'sq enqueue (PostgreSQL)': [BIN, 'enqueue', 'tasks#noop', '--db', pgDb],
        'sq show (SQLite)': [BIN, 'show', id, '--db', file],
        'sq list (SQLite)': [BIN, 'list', '--db', file],
        'graphile-worker quickAddJob': ['--input-type=module', '-e', quickAdd],
      }
      const times = new Map<string, number[]>()
      for (let round = 0; round < STARTUP_RUNS; round++) {
        for (const [label, args] of Object.entries(commands)) {
          const s = performance.now()
          // Run from the repository for graphile-worker's import; sq gets its root by --db's dir.
          const p = spawnSync(process.execPath, args, {
            cwd: label.startsWith('graphile') ? process.cwd() : scratch(),
            stdio: ['ignore', 'ignore', 'pipe'],
          })
          if (p.status !== 0) throw new Error(`${label} failed: ${p.stderr}`)
          times.set(label, [...(times.get(label) ?? []), performance.now() - s])
        }
      }
      for (const [label, xs] of times) r.startup.set(label, median(xs))
    })
  })
}

const noopArgs = (n: number) => Array.from({ length: n }, (_, i) => ({ i }))

/** Median rate of each label over BULK_ROUNDS rounds, the rounds of its baseline interleaved with its own. */
class Rates {
  private readonly all = new Map<string, number[]>()
  add(label: string, tasks: number, since: number): void {
    this.all.set(label, [...(this.all.get(label) ?? []), rate(tasks, since)])
  }
  into(target: Map<string, number>): void {
    for (const [label, xs] of this.all) target.set(label, median(xs))
  }
}

async function bulk(r: EnqueueResults): Promise<void> {
  const rates = new Rates()
  const file = sqliteFile('bulk')
  for (let round = 0; round < BULK_ROUNDS; round++) {
    removeSqlite(file)
    await withQueue(file, async (q) => {
      const items = noopArgs(BULK).map((args) => ({ task: 'tasks#noop', args }))
      const s = performance.now()
      await q.enqueueMany(items, { chunkSize: CHUNK })
      rates.add('sq enqueueMany (SQLite)', BULK, s)
    })
    // The SQLite floor: the same rows, one prepared single-row INSERT each, all in one transaction.
    const raw = rawSqlite(file)
    try {
      const insert = raw.prepare(INSERT_SQLITE)
      const s = performance.now()
      raw.transaction(() => {
        for (const a of noopArgs(BULK)) insert.run(randomUUID(), JSON.stringify(a))
      })()
      rates.add('raw INSERT loop in one transaction (better-sqlite3)', BULK, s)
    } finally {
      raw.close()
    }
  }
  // The CLI: the whole process, start-up included, reading the JSONL from a file.
  const jsonl = path.join(scratch(), 'bulk.jsonl')
  fs.writeFileSync(
    jsonl,
    noopArgs(BULK)
      .map((a) => JSON.stringify(a))
      .join('\n'),
  )
  for (let round = 0; round < BULK_ROUNDS; round++) {
    removeSqlite(file)
    const s = performance.now()
    const p = spawnSync(process.execPath, [BIN, 'enqueue', 'tasks#noop', '--jsonl', jsonl, '--db', file], {
      cwd: scratch(),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    if (p.status !== 0) throw new Error(`sq enqueue --jsonl failed: ${p.stderr}`)
    rates.add('sq enqueue --jsonl (SQLite, whole process)', BULK, s)
  }
  // PostgreSQL: sq's enqueueMany and graphile-worker's add_jobs (the args sent from the client as sq
  // sends them, CHUNK per call) take turns, each into its own database.
  await withPg('bulk', (url) =>
    withQueue(url, (q) =>
      withPg('bulk_graphile', async (graphileUrl) => {
        await runMigrations({ connectionString: graphileUrl, logger: SILENT })
        const client = await pgClient(graphileUrl)
        try {
          for (let round = 0; round < BULK_ROUNDS; round++) {
            const items = noopArgs(BULK).map((args) => ({ task: 'tasks#noop', args }))
            let s = performance.now()
            await q.enqueueMany(items, { chunkSize: CHUNK })
            rates.add('sq enqueueMany (PostgreSQL)', BULK, s)
            s = performance.now()
            for (let i = 0; i < BULK; i += CHUNK) {
              await client.query(
                `SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
                   SELECT ROW('noop', x, NULL, NULL, NULL, NULL, NULL, NULL)::graphile_worker.job_spec FROM json_array_elements($1::json) x))`,
                [JSON.stringify(noopArgs(Math.min(CHUNK, BULK - i)))],
              )
            }
            rates.add('graphile-worker add_jobs', BULK, s)
          }
        } finally {
          await client.end()
        }
      }),
    ),
  )
  rates.into(r.bulk)
}

const SQLITE_NOW = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
/** The row createTask inserts, written by hand. */
const INSERT_SQLITE = `INSERT INTO sq_tasks (id, task, args, status, queue, priority, max_attempts, attempts, key, created, modified, run_at)
  VALUES (?, 'tasks#noop', ?, 'queued', 'default', 0, 1, 0, NULL, ${SQLITE_NOW}, ${SQLITE_NOW}, ${SQLITE_NOW})`

const INSERT_PG = `INSERT INTO sq_tasks (id, task, args, status, queue, priority, max_attempts, attempts, key, created, modified, run_at)
  VALUES ($1, 'tasks#noop', $2, 'queued', 'default', 0, 1, 0, NULL, now(), now(), now())`

/** The baseline's own connection to an sq SQLite file, set up as sq's backend sets up its own. */
function rawSqlite(file: string): Database.Database {
  const raw = new Database(file)
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = NORMAL')
  return raw
}

const rate = (n: number, since: number) => (n / (performance.now() - since)) * 1000

const SINGLE_ROUNDS = Number(process.env.BENCH_SINGLE_ROUNDS ?? 8)

/** One side of a comparison: its connection opened (and warmed) before a round, closed after it. */
type Loop = () => Promise<{ call: (i: number) => unknown; close?: () => unknown }>

/**
 * Runs each loop for SINGLE / SINGLE_ROUNDS calls per round, the loops taking turns (A B A B …), so
 * that load drifts hit sq and its baseline alike; a loop's rate is its median round's. Only the calls
 * are timed.
 */
async function interleaved(rates: Rates, loops: Record<string, Loop>): Promise<void> {
  const perRound = Math.ceil(SINGLE / SINGLE_ROUNDS)
  for (let round = 0; round < SINGLE_ROUNDS; round++) {
    for (const [label, open] of Object.entries(loops)) {
      const { call, close } = await open()
      try {
        const s = performance.now()
        for (let i = 0; i < perRound; i++) await call(i)
        rates.add(label, perRound, s)
      } finally {
        await close?.()
      }
    }
  }
}

async function single(r: EnqueueResults): Promise<void> {
  const rates = new Rates()
  const file = sqliteFile('single')
  removeSqlite(file)
  // SQLite: each side on its own connection, one open at a time (as an app has one): a second
  // connection to the file would make every commit of one a change the other must read.
  await interleaved(rates, {
    'sq createTask (SQLite)': async () => {
      const q = await openQueue({ db: file, root: scratch() })
      for (let i = 0; i < 20; i++) await q.enqueue({ task: 'tasks#noop', args: { i } }) // warm
      return { call: (i) => q.enqueue({ task: 'tasks#noop', args: { i } }), close: () => q.close() }
    },
    // The same row through better-sqlite3 directly: one prepared INSERT per transaction (autocommit).
    'raw INSERT (better-sqlite3)': async () => {
      const raw = rawSqlite(file)
      const insert = raw.prepare(INSERT_SQLITE)
      return { call: (i) => insert.run(randomUUID(), JSON.stringify({ i })), close: () => raw.close() }
    },
  })
  await withPg('single', async (url) => {
    await withQueue(url, async (q) => {
      for (let i = 0; i < 50; i++) await q.enqueue({ task: 'tasks#noop', args: { i } })
      const client = await pgClient(url)
      try {
        // The same row by hand through pg, autocommit: the floor of the goal is the plain query (parsed
        // and planned by the server at every call, as most code sends it); the same text as a named
        // prepared statement, as createTask sends its own, is shown beside it.
        const values = (i: number) => [randomUUID(), JSON.stringify({ i })]
        await interleaved(rates, {
          'sq createTask (PostgreSQL)': async () => ({ call: (i) => q.enqueue({ task: 'tasks#noop', args: { i } }) }),
          'raw INSERT (pg)': async () => ({ call: (i) => client.query(INSERT_PG, values(i)) }),
          'raw INSERT, named prepared (pg)': async () => ({
            call: (i) => client.query({ name: 'raw', text: INSERT_PG, values: values(i) }),
          }),
        })
      } finally {
        await client.end()
      }
    })
  })
  await withPg('single_graphile', async (url) => {
    await runMigrations({ connectionString: url, logger: SILENT })
    const utils = await makeWorkerUtils({ connectionString: url, logger: SILENT })
    try {
      const s = performance.now()
      for (let i = 0; i < SINGLE; i++) await utils.addJob('noop', { i })
      rates.add('graphile-worker addJob', SINGLE, s)
    } finally {
      await utils.release()
    }
  })
  rates.into(r.single)
}

export async function measureEnqueue(sections: Section[], progress: (line: string) => void): Promise<EnqueueResults> {
  const r: EnqueueResults = { startup: new Map(), bulk: new Map(), single: new Map(), failures: new Map() }
  const steps: Record<Section, (r: EnqueueResults) => Promise<void>> = { startup, bulk, single }
  for (const section of sections) {
    try {
      await steps[section](r)
      const figures = { startup: r.startup, bulk: r.bulk, single: r.single }[section]
      progress(`${section}: ${[...figures].map(([k, v]) => `${k} ${num(v)}`).join(', ')}`)
    } catch (error) {
      r.failures.set(section, (error as Error).message.split('\n')[0]!)
      progress(`${section}: could not run: ${(error as Error).message.split('\n')[0]}`)
    }
  }
  return r
}

/** The tables, each figure with its ratio to its baseline and the issue's goal. */
export function enqueueReport(r: EnqueueResults): string {
  const out: string[] = []
  if (r.startup.size > 0) {
    const base = r.startup.get('node -e 0')
    const goals: Record<string, number> = {
      'sq --version': 1.5,
      'sq --help': 1.5,
      'sq enqueue (SQLite)': 1.8,
      'sq enqueue (PostgreSQL)': 2.2,
      'sq show (SQLite)': 2,
      'sq list (SQLite)': 2,
    }
    out.push(`One-shot start-up, median of ${STARTUP_RUNS} interleaved runs (×: against node -e 0 of the same run)`)
    out.push(
      table(
        ['command', 'ms', '× node -e 0', 'goal', ''],
        [...r.startup].map(([k, ms]) => [
          k,
          num(ms),
          ratio(ms, base),
          goals[k] ? `≤ ${goals[k]}×` : '',
          goals[k] && base ? verdict(ms / base <= goals[k]!) : '',
        ]),
      ),
    )
  }
  if (r.bulk.size > 0) {
    const gw = r.bulk.get('graphile-worker add_jobs')
    out.push(
      `Bulk enqueue of ${num(BULK)} tasks, ${num(CHUNK)} per transaction (tasks/s, median of ${BULK_ROUNDS} interleaved rounds)`,
    )
    out.push(
      table(
        ['', 'tasks/s', 'goal', ''],
        [...r.bulk].map(([k, v]) => {
          if (k === 'sq enqueueMany (SQLite)') return [k, num(v), '≥ 50,000', verdict(v >= 50_000)]
          if (k === 'sq enqueueMany (PostgreSQL)')
            return [k, num(v), `≥ add_jobs (${ratio(v, gw)})`, gw ? verdict(v >= gw) : '']
          return [k, num(v), '', '']
        }),
      ),
    )
  }
  if (r.single.size > 0) {
    out.push(
      `One task per call, ${num(SINGLE)} in a loop, one row per transaction (tasks/s, median of ${SINGLE_ROUNDS} interleaved rounds)`,
    )
    const floor: Record<string, string> = {
      'sq createTask (SQLite)': 'raw INSERT (better-sqlite3)',
      'sq createTask (PostgreSQL)': 'raw INSERT (pg)',
    }
    out.push(
      table(
        ['', 'tasks/s', '× raw INSERT', 'goal', ''],
        [...r.single].map(([k, v]) => {
          const base = floor[k] ? r.single.get(floor[k]!) : undefined
          return [k, num(v), base ? ratio(v, base) : '', base ? '≥ 0.8×' : '', base ? verdict(v / base >= 0.8) : '']
        }),
      ),
    )
  }
  for (const [section, why] of r.failures) out.push(`${section}: could not run: ${why}`)
  return out.join('\n\n')
}
