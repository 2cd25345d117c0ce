import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { resolveSettings } from '../src/config.js'
import { parseDatabaseUrl } from '../src/storage/open.js'
import { runSq } from './helpers/cli.js'
import { assertOneLineError } from './helpers/sq.js'

describe('database URLs', () => {
  it('selects PostgreSQL for postgres:// and postgresql://, SQLite otherwise', () => {
    assert.deepEqual(parseDatabaseUrl('postgres://u@h/db'), { kind: 'postgres', url: 'postgres://u@h/db' })
    assert.deepEqual(parseDatabaseUrl('postgresql://u@h/db'), { kind: 'postgres', url: 'postgresql://u@h/db' })
    assert.deepEqual(parseDatabaseUrl('sqlite:data/q.db'), { kind: 'sqlite', path: 'data/q.db' })
    assert.deepEqual(parseDatabaseUrl('file:/tmp/q.db'), { kind: 'sqlite', path: '/tmp/q.db' })
    assert.deepEqual(parseDatabaseUrl('q.db'), { kind: 'sqlite', path: 'q.db' })
  })
  it('refuses other schemes without printing their password', () => {
    assert.throws(
      () => parseDatabaseUrl('mysql://u:topsecret@h/db'),
      (e: Error) => !e.message.includes('topsecret') && /unsupported/.test(e.message),
    )
  })
})

describe('one-line errors', () => {
  it('joins an introducing line with the reason that follows it', async () => {
    const { oneLine } = await import('../src/errors.js')
    assert.equal(
      oneLine(
        'Parsing --concurrency \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help',
      ),
      'Parsing --concurrency: Expected an integer greater than or equal to 1 but received: 0',
    )
    assert.equal(
      oneLine('The following errors occurred:\n  --at cannot also be provided when using --delay\nSee more help'),
      'The following errors occurred: --at cannot also be provided when using --delay',
    )
    assert.equal(oneLine('malformed task id "abc"'), 'malformed task id "abc"')
  })
})

describe('config files in a CommonJS project (package.json without "type")', () => {
  const projects: string[] = []
  after(() => {
    for (const dir of projects) fs.rmSync(dir, { recursive: true, force: true })
  })
  /** A project dir as `npm init` makes it, with one config file. */
  function project(file: string, source: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-config-'))
    projects.push(dir)
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }))
    fs.writeFileSync(path.join(dir, file), source)
    return dir
  }

  it('reads the default export of sq.config.ts, and module.exports of sq.config.js', async () => {
    const ts = project(
      'sq.config.ts',
      "const taskTimeout: number = 7\nexport default { taskTimeout, hooks: 'hooks' }\n",
    )
    const js = project('sq.config.js', "module.exports = { taskTimeout: 8, hooks: 'hooks' }\n")
    for (const [dir, taskTimeout] of [
      [ts, 7],
      [js, 8],
    ] as const) {
      const settings = await resolveSettings({}, {}, dir)
      assert.equal(settings.taskTimeout, taskTimeout)
      assert.equal(settings.hooks, 'hooks')
    }
  })
})

describe('pollInterval', () => {
  it('is 5 s unless SQ_POLL_INTERVAL or sq.config.* says otherwise (a unit allowed); the variable wins', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-poll-'))
    assert.equal((await resolveSettings({}, {}, dir)).pollInterval, 5)
    assert.equal((await resolveSettings({}, { SQ_POLL_INTERVAL: '2m' }, dir)).pollInterval, 120)
    fs.writeFileSync(path.join(dir, 'sq.config.json'), '{"pollInterval": 2}')
    assert.equal((await resolveSettings({}, {}, dir)).pollInterval, 2)
    assert.equal((await resolveSettings({}, { SQ_POLL_INTERVAL: '0.5' }, dir)).pollInterval, 0.5)
    fs.rmSync(dir, { recursive: true })
  })
})

describe('listenUrl and preparedStatements', () => {
  const PG = 'postgres://app:pgsecret@db.internal:6432/app'
  const DIRECT = 'postgres://app:listensecret@db.internal:5432/app'
  let dir: string
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-listen-'))))
  afterEach(() => fs.rmSync(dir, { recursive: true }))

  it('are unset and true by default; SQ_LISTEN_URL, SQ_PREPARED_STATEMENTS and sq.config.* set them', async () => {
    assert.deepEqual(pick(await resolveSettings({ db: PG }, {}, dir)), { listenUrl: null, preparedStatements: true })
    const env = { SQ_LISTEN_URL: DIRECT, SQ_PREPARED_STATEMENTS: 'false' }
    assert.deepEqual(pick(await resolveSettings({ db: PG }, env, dir)), {
      listenUrl: DIRECT,
      preparedStatements: false,
    })
    fs.writeFileSync(path.join(dir, 'sq.config.json'), JSON.stringify({ listenUrl: DIRECT, preparedStatements: false }))
    assert.deepEqual(pick(await resolveSettings({ db: PG }, {}, dir)), { listenUrl: DIRECT, preparedStatements: false })
  })

  it('refuse, in one line naming the setting and no password: a listenUrl not postgres://, or on SQLite; a non-boolean', async () => {
    const refused = async (env: Record<string, string>, db: string, pattern: RegExp) => {
      const r = await runSq(['stats', '--db', db], { cwd: dir, env })
      assertOneLineError(r, 2, pattern)
      assert.doesNotMatch(r.stderr, /secret/)
    }
    await refused(
      { SQ_LISTEN_URL: 'mysql://app:listensecret@h/app' },
      PG,
      /^sq: listenUrl from SQ_LISTEN_URL: unsupported/,
    )
    await refused({ SQ_LISTEN_URL: 'direct.db' }, PG, /^sq: listenUrl from SQ_LISTEN_URL must be a postgres:\/\/… URL$/)
    await refused(
      { SQ_LISTEN_URL: 'postgres://app:listensecret@h:99999/app' },
      PG,
      /^sq: listenUrl from SQ_LISTEN_URL: malformed/,
    )
    await refused(
      { SQ_LISTEN_URL: DIRECT },
      path.join(dir, 'sq.db'),
      /^sq: listenUrl from SQ_LISTEN_URL is for PostgreSQL, but the database is SQLite/,
    )
    await refused(
      { SQ_PREPARED_STATEMENTS: 'no' },
      PG,
      /^sq: preparedStatements from SQ_PREPARED_STATEMENTS must be true or false, got "no"$/,
    )
    assert.equal(fs.existsSync(path.join(dir, 'sq.db')), false, 'a refused setting created the database')
  })
})

const pick = (s: { listenUrl: string | null; preparedStatements: boolean }) => ({
  listenUrl: s.listenUrl,
  preparedStatements: s.preparedStatements,
})
