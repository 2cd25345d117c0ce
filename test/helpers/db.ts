import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { openConnection } from '../../src/storage/open.js'
import type { Backend, BackendName } from '../../src/storage/backend.js'

/**
 * A fresh database per test file, on each dialect. PostgreSQL runs against the local server
 * (SQ_TEST_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/postgres) and FAILS when it is
 * missing; SQ_TEST_SKIP_PG=1 leaves it out on purpose and says so loudly.
 */
export const PG_ADMIN_URL = process.env.SQ_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

const SKIP_PG = process.env.SQ_TEST_SKIP_PG === '1'
if (SKIP_PG) process.stderr.write('\n*** SQ_TEST_SKIP_PG=1: the PostgreSQL tests are NOT running ***\n\n')

/** Every dialect a suite is written for; one left out on purpose still registers its tests, as pending. */
export const DIALECTS: BackendName[] = ['sqlite', 'postgres']

/** Is this dialect left out on purpose (SQ_TEST_SKIP_PG=1)? The one place that decides. */
export function isSkipped(dialect: BackendName): boolean {
  return dialect === 'postgres' && SKIP_PG
}

/**
 * `describe` for a suite on one dialect. A dialect left out on purpose registers the suite as pending,
 * its title saying why: mocha lists and counts its tests as pending instead of leaving no trace.
 */
export function describeOn(dialect: BackendName, title: string, fn: (this: Mocha.Suite) => void): void {
  if (isSkipped(dialect)) describe.skip(`${title} — skipped: SQ_TEST_SKIP_PG=1`, fn)
  else describe(title, fn)
}

/** `it` for a test on one dialect in a suite on another: pending, saying why, when that dialect is left out. */
export function itOn(dialect: BackendName, title: string, fn: Mocha.Func): Mocha.Test {
  if (isSkipped(dialect)) return it.skip(`${title} — skipped: SQ_TEST_SKIP_PG=1`, fn)
  return it(title, fn)
}

/** For a database helper's `before` hook: a suite on a skipped dialect that got past describeOn is pending. */
export function skipIfLeftOut(context: Mocha.Context, dialect: BackendName): void {
  if (isSkipped(dialect)) context.skip()
}

export interface TestDatabase {
  dialect: BackendName
  /** What `--db` / SQ_DATABASE_URL take. */
  url: string
  /** A working directory of its own (the root for task references), removed at drop. */
  dir: string
  drop(): Promise<void>
}

/**
 * Creates an empty database (a temp SQLite file, or a new PostgreSQL database) and a temp dir; on
 * PostgreSQL, on the server of `adminUrl` (a test that restarts its server brings a cluster of its own).
 */
export async function createTestDatabase(dialect: BackendName, adminUrl = PG_ADMIN_URL): Promise<TestDatabase> {
  if (isSkipped(dialect)) {
    throw new Error('SQ_TEST_SKIP_PG=1, yet a test asked for a PostgreSQL database: register its suite with describeOn')
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-test-'))
  if (dialect === 'sqlite') {
    return {
      dialect,
      url: path.join(dir, 'sq.db'),
      dir,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    }
  }
  const name = `sq_test_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  try {
    await admin.connect()
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${adminUrl} (${(error as Error).message}); start it, or set SQ_TEST_SKIP_PG=1 to skip the PostgreSQL tests on purpose`,
    )
  }
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = adminUrl.replace(/\/[^/]*$/, `/${name}`)
  return {
    dialect,
    url,
    dir,
    drop: async () => {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await c.end()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Opens (and migrates) a test database through sq's own storage layer. */
export function openTestDatabase(db: TestDatabase): Promise<Backend> {
  return openConnection(db.url).then((connection) => connection.backend())
}

/**
 * Registers the hooks of a suite on one database: created (and `setup` given its dir, e.g. to write
 * task modules) and opened through sq's storage layer before the suite, closed and dropped after it;
 * with `clean`, the tasks are deleted before each test.
 */
export function useTestDatabase(
  dialect: BackendName,
  o: { clean?: boolean; setup?: (dir: string) => void } = {},
): { readonly db: TestDatabase; readonly d: Backend } {
  let db: TestDatabase | undefined
  let d: Backend | undefined
  before(async function () {
    skipIfLeftOut(this, dialect)
    db = await createTestDatabase(dialect)
    o.setup?.(db.dir)
    d = await openTestDatabase(db)
  })
  if (o.clean) {
    beforeEach(async () => {
      await d!.db.deleteFrom('sq_tasks').execute()
    })
  }
  after(async () => {
    await d?.close()
    await db?.drop()
  })
  return {
    get db() {
      return db!
    },
    get d() {
      return d!
    },
  }
}
