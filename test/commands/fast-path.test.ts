import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { COMMANDS } from '../../commands/index.js'
import type { CliResult } from '../helpers/cli.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { sq, writeTaskModule } from '../helpers/sq.js'

/**
 * `sq enqueue`, `show`, `list`, `worker`, `--version` and help run without oclif on plain input
 * (commands/fast/). Each input here runs both ways — fast, and forced through oclif with SQ_CLI=oclif —
 * and the two must print the same stdout and stderr and exit the same, ids and times aside; the probe
 * says which path ran.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url))
const PROBE = path.resolve(HERE, '../helpers/oclif-probe.cjs')

/** Ids and times change from run to run; what is printed around them must not. */
function normalize(text: string): string {
  return (
    text
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/\b[0-9a-f]{8}\b/g, '<short-id>')
      .replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>')
      .replace(/\b(\d+(\.\d+)?\s?(ms|s|m|h|d))+( ago)?\b/g, '<duration>')
      // A table's columns are as wide as their widest cell: "9s ago" and "10s ago" move them.
      .replace(/ +/g, ' ')
  )
}

interface Both {
  fast: CliResult
  oclif: CliResult
  /** Which path the unforced run took: `fast` or `oclif`. */
  path: string
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq fast path vs oclif (${dialect})`, function () {
    this.timeout(300_000)
    let db: TestDatabase
    let probeFile: string

    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      probeFile = path.join(db.dir, 'probe.txt')
    })
    after(async () => db?.drop())

    /** Runs `sq ...args` unforced, then through oclif, on the same database. */
    async function both(args: string[], input?: string, extraEnv: Record<string, string> = {}): Promise<Both> {
      fs.writeFileSync(probeFile, '')
      const env = { NODE_OPTIONS: `--require ${PROBE}`, SQ_TEST_PROBE: probeFile, ...extraEnv }
      const fast = await sq(db, args, { env, input })
      const ran = fs.readFileSync(probeFile, 'utf8').trim()
      const oclif = await sq(db, args, { env: { ...env, SQ_CLI: 'oclif' }, input })
      assert.equal(fs.readFileSync(probeFile, 'utf8').trim().split('\n')[1], 'oclif', 'SQ_CLI=oclif runs oclif')
      return { fast, oclif, path: ran }
    }

    function assertSame(r: Both, args: string[]): void {
      const what = `sq ${args.join(' ')}`
      assert.equal(r.fast.code, r.oclif.code, `${what}: exit codes (stderr: ${r.fast.stderr} / ${r.oclif.stderr})`)
      assert.equal(normalize(r.fast.stderr), normalize(r.oclif.stderr), `${what}: stderr`)
      assert.equal(normalize(r.fast.stdout), normalize(r.oclif.stdout), `${what}: stdout`)
    }

    it('plain input runs without oclif and prints what oclif prints', async () => {
      const cases: { args: string[]; input?: string; code: number }[] = [
        { args: ['--version'], code: 0 },
        { args: ['enqueue', 'tasks#hello'], code: 0 },
        { args: ['enqueue', 'tasks#hello', '--arg', 'name=ann', '--arg', 'n=2', '--json'], code: 0 },
        {
          args: [
            'enqueue',
            '--priority',
            '3',
            '--queue',
            'mail',
            'tasks#hello',
            '--max-attempts=2',
            '--delay',
            '10m',
            '--json',
          ],
          code: 0,
        },
        {
          args: ['enqueue', 'tasks#hello', '--args', '-', '--key', 'k1', '--json'],
          input: '{"name":"stdin"}',
          code: 0,
        },
        { args: ['enqueue', 'tasks#hello', '--at', '2030-01-01T00:00:00Z', '--json'], code: 0 },
        {
          args: ['enqueue', 'tasks#hello', '--jsonl', '-', '--key', 'b-{name}'],
          input: '{"name":"a"}\n{"name":"b"}\n',
          code: 0,
        },
        { args: ['enqueue', 'tasks#hello', '--jsonl', '-', '--json'], input: '{"name":"a"}\n', code: 0 },
        { args: ['list'], code: 0 },
        { args: ['list', '--json', '--limit', '3'], code: 0 },
        { args: ['list', '-q', '--status', 'queued,completed', '--task', 'tasks*'], code: 0 },
        { args: ['list', '--search', 'hello', '--since', '1h', '--json'], code: 0 },
        // A queue nobody uses: the burst finds nothing, so both runs see the same empty queue.
        { args: ['worker', '--burst', '--quiet', '--queue', 'idle'], code: 0 },
        {
          args: ['worker', '--burst', '-c', '2', '--queue', 'idle', '--log-level', 'error', '--log-format', 'json'],
          code: 0,
        },
      ]
      for (const c of cases) {
        const r = await both(c.args, c.input)
        assert.equal(r.path, 'fast', `sq ${c.args.join(' ')} ran without oclif`)
        assertSame(r, c.args)
        assert.equal(r.fast.code, c.code, `sq ${c.args.join(' ')}: ${r.fast.stderr}`)
      }
      const id = (await sq(db, ['enqueue', 'tasks#hello'])).stdout.trim()
      for (const args of [
        ['show', id],
        ['show', id.slice(0, 8), '--json'],
        ['show', '--json', id],
      ]) {
        const r = await both(args)
        assert.equal(r.path, 'fast')
        assertSame(r, args)
        assert.equal(r.fast.code, 0)
      }
    })

    // Parsing and the errors of the core do not depend on the database: they are compared on SQLite.
    const sqliteOnly = (title: string, fn: () => Promise<void> | void) =>
      dialect === 'sqlite' ? it(title, fn) : undefined

    sqliteOnly('bad input that parses gives the same one-line errors and exit codes', async () => {
      const cases: { args: string[]; code: number }[] = [
        { args: ['enqueue', 'tasks#hello', '--args', '[1,2]'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--args', '{nope'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--arg', 'novalue'], code: 2 },
        { args: ['enqueue', 'missing#x'], code: 2 },
        { args: ['enqueue', '../outside#x'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--delay', '10'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--at', 'tomorrow'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--queue', 'a b'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--args', '@nofile.json'], code: 2 },
        { args: ['enqueue', 'tasks#hello', '--jsonl', 'nofile.jsonl'], code: 2 },
        { args: ['show', 'abc'], code: 2 },
        { args: ['show', '00000000'], code: 1 },
        { args: ['list', '--status', 'nope'], code: 2 },
        { args: ['list', '--since', '5'], code: 2 },
        { args: ['list', '--db', 'postgres://ann:s3cret@127.0.0.1:1/none'], code: 1 },
        { args: ['list', '--db', 'mysql://x/y'], code: 2 },
        { args: ['worker', '--burst', '--queue', ','], code: 2 },
        { args: ['worker', '--burst', '-c', '300'], code: 2 },
      ]
      for (const c of cases) {
        const r = await both(c.args)
        assert.equal(r.path, 'fast', `sq ${c.args.join(' ')} ran without oclif`)
        assertSame(r, c.args)
        assert.equal(r.fast.code, c.code, `sq ${c.args.join(' ')}: ${r.fast.stderr}`)
        assert.match(r.fast.stderr, /^sq: [^\n]+\n$/, `sq ${c.args.join(' ')}: one line`)
        assert.doesNotMatch(r.fast.stderr, /s3cret/)
      }
    })

    sqliteOnly('leaves help, unknown or unusual flags and parse errors to oclif', async () => {
      const cases = [
        ['help'],
        ['help', 'enqueue'],
        ['enqueue', 'tasks#hello', '--help'],
        ['nope', '--help'],
        ['enqueue'],
        ['enqueue', 'tasks#hello', 'extra'],
        ['enqueue', 'tasks#hello', '--bogus'],
        ['enqueue', 'tasks#hello', '--priority', 'high'],
        ['enqueue', 'tasks#hello', '--priority', '-1'],
        ['enqueue', 'tasks#hello', '--delay', '1m', '--at', '2030-01-01T00:00:00Z'],
        ['enqueue', 'tasks#hello', '--key', 'a', '--key', 'b'],
        ['enqueue', '--arg', 'a=1', 'tasks#hello'],
        ['enqueue', 'tasks#hello', '--wait=yes'],
        ['enqueue', 'tasks#hello', '--jsonl', 'x.jsonl', '--wait'],
        ['enqueue', 'tasks#hello', '--key='],
        ['enqueue', 'tasks#hello', '--', '--json'],
        ['list', '--limit', '0'],
        ['list', '-qf'],
        ['show'],
        ['worker', '--concurrency', '0'],
        ['worker', '--log-level', 'loud'],
        ['worker', '--burst', '--quiet', '--log-level', 'warn'],
        ['worker', 'extra'],
        ['cancel'],
        ['--version', 'extra'],
      ]
      for (const args of cases) {
        const r = await both(args)
        assert.equal(r.path, 'oclif', `sq ${args.join(' ')} goes to oclif`)
        assertSame(r, args)
      }
    })

    sqliteOnly("prints oclif's help, rendered at build time, for sq and for every command", async () => {
      const cases = [[], ['--help'], ['-h'], ['enqueue', '-h'], ...Object.keys(COMMANDS).map((id) => [id, '--help'])]
      for (const args of cases) {
        const r = await both(args)
        assert.equal(r.path, 'fast', `sq ${args.join(' ')} ran without oclif`)
        assert.equal(r.fast.code, 0, `sq ${args.join(' ')}: ${r.fast.stderr}`)
        // To the byte: no normalising (the root help's VERSION line is the user agent of this node).
        assert.equal(r.fast.stdout, r.oclif.stdout, `sq ${args.join(' ')}: stdout`)
        assert.equal(r.fast.stderr, r.oclif.stderr, `sq ${args.join(' ')}: stderr`)
      }
      // Rendered at 80 columns, the width of a pipe: any other width is oclif's to render.
      const wide = await both(['enqueue', '--help'], undefined, { OCLIF_COLUMNS: '120' })
      assert.equal(wide.path, 'oclif')
      assertSame(wide, ['enqueue', '--help'])
      const narrow = await both(['--help'], undefined, { OCLIF_COLUMNS: '80' })
      assert.equal(narrow.path, 'fast')
      assert.equal(narrow.fast.stdout, narrow.oclif.stdout)
    })
  })
}
