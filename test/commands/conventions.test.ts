import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runSq } from '../helpers/cli.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { assertOneLineError, insert, setStatus, sq, sqJson, sqOk } from '../helpers/sq.js'
import type { Task } from '../../src/types.js'

/** The CLI's conventions (issue 10 item 7): help, version, unknown commands, completion, --task globs, --limit, spacing. */
describe('sq help, -h, -v, unknown commands, completion', function () {
  this.timeout(60_000)
  let dir: string
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-conventions-'))))
  after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const run = (...args: string[]) =>
    runSq(args, { cwd: dir, env: { HOME: dir, XDG_CACHE_HOME: path.join(dir, 'cache') } })

  it('sq help CMD, sq CMD -h and sq CMD --help print the same help; sq help lists the commands', async () => {
    const [viaHelp, viaH, viaLong, root] = await Promise.all([
      run('help', 'worker'),
      run('worker', '-h'),
      run('worker', '--help'),
      run('help'),
    ])
    for (const r of [viaHelp, viaH, viaLong, root]) assert.equal(r.code, 0, r.stderr)
    assert.match(viaHelp.stdout, /^USAGE\n {2}\$ sq worker /m)
    assert.match(
      viaHelp.stdout.replace(/\s+/g, ' '),
      /--burst exit once no runnable task is left: 0 if every task it ran completed, 1 if any failed/,
    )
    assert.equal(viaH.stdout, viaHelp.stdout)
    assert.equal(viaLong.stdout, viaHelp.stdout)
    for (const command of ['enqueue', 'worker', 'list', 'show', 'top', 'autocomplete', 'help'])
      assert.match(root.stdout, new RegExp(`^ {2}${command} `, 'm'))
  })

  it('-v and --version print the version', async () => {
    const version = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
      .version as string
    const [short, long] = await Promise.all([run('-v'), run('--version')])
    assert.equal(short.code, 0)
    assert.match(short.stdout, new RegExp(`^sq-queue/${version.replaceAll('.', '\\.')} `))
    assert.equal(short.stdout, long.stdout)
  })

  it('an unknown command is one `sq:` line, exit 2, with a suggestion when it looks like a typo', async () => {
    const [typo, withArgument, prefix, unrelated, helpUnknown] = await Promise.all([
      run('lsit', '--status', 'failed'),
      run('shwo', '0bf14584'),
      run('enq'),
      run('nope'),
      run('help', 'nope'),
    ])
    assertOneLineError(typo, 2, /^sq: "lsit" is not a sq command; did you mean "list"\? \(sq help lists them\)$/)
    assertOneLineError(
      withArgument,
      2,
      /^sq: "shwo" is not a sq command; did you mean "show"\? \(sq help lists them\)$/,
    )
    assertOneLineError(prefix, 2, /did you mean "enqueue"\?/)
    assertOneLineError(unrelated, 2, /^sq: "nope" is not a sq command \(sq help lists them\)$/)
    assertOneLineError(helpUnknown, 2, /^sq: "nope" is not a sq command/)
    for (const r of [typo, withArgument, prefix, unrelated, helpUnknown]) assert.equal(r.stdout, '')
  })

  it('sq autocomplete builds a bash completion that completes commands and flags', async () => {
    const refresh = await run('autocomplete', '--refresh-cache')
    assert.equal(refresh.code, 0, refresh.stderr)
    const script = path.join(dir, 'cache', 'sq', 'autocomplete', 'functions', 'bash', 'sq.bash')
    // What bash does on TAB: the completion function fills COMPREPLY from the words typed so far.
    const complete = (words: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `source '${script}'; COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _sq_autocomplete; echo "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      ).trim()
    assert.equal(complete('sq wor'), 'worker')
    assert.equal(complete('sq worker --log-f'), '--log-format')
    assert.equal(complete('sq list --ta'), '--task')
  })
})

for (const dialect of DIALECTS) {
  describeOn(dialect, `--task globs, --limit notes, no trailing spaces (${dialect})`, function () {
    this.timeout(60_000)
    const t = useTestDatabase(dialect, { clean: true })
    const listTasks = async (...args: string[]) =>
      (await sqJson<Task[]>(t.db, ['list', ...args])).map((task) => task.task).sort()

    it('--task: a glob with * or ? is anchored at both ends and ignores case; without one, a substring', async () => {
      for (const task of ['hello#a', 'tasks/hello#b', 'Help#c', 'shell#d', 'x_y#e']) await insert(t.d, { task })
      const [anchored, substring, both, question, exportGlob, literal] = await Promise.all([
        listTasks('--task', 'hel*'),
        listTasks('--task', 'hel'),
        listTasks('--task', '*hel*'),
        listTasks('--task', '?ello#?'),
        listTasks('--task', '*#b'),
        listTasks('--task', 'x_y*'),
      ])
      assert.deepEqual(anchored, ['Help#c', 'hello#a'])
      assert.deepEqual(substring, ['Help#c', 'hello#a', 'shell#d', 'tasks/hello#b'])
      assert.deepEqual(both, substring)
      assert.deepEqual(question, ['hello#a'])
      assert.deepEqual(exportGlob, ['tasks/hello#b'])
      assert.deepEqual(literal, ['x_y#e'], '_ is a literal character, not a wildcard')
    })

    it('sq list says on stderr when --limit cut the list, and nothing when it did not', async () => {
      for (let i = 0; i < 3; i++) await insert(t.d, { task: 'tasks#hello' })
      const [cut, exact, json, quiet] = await Promise.all([
        sq(t.db, ['list', '--limit', '2']),
        sq(t.db, ['list', '--limit', '3']),
        sq(t.db, ['list', '--limit', '2', '--json']),
        sq(t.db, ['list', '--limit', '2', '-q']),
      ])
      for (const r of [cut, exact, json, quiet]) assert.equal(r.code, 0, r.stderr)
      const note = '(the 2 most recent shown; more match: raise --limit to see them)\n'
      assert.equal(cut.stderr, note)
      assert.equal(cut.stdout.trimEnd().split('\n').length, 3, 'a header and two rows')
      assert.equal(exact.stderr, '')
      assert.equal((JSON.parse(json.stdout) as Task[]).length, 2, 'the JSON is the array of records, as before')
      assert.equal(json.stderr, note)
      assert.equal(quiet.stdout.trimEnd().split('\n').length, 2)
      assert.equal(quiet.stderr, note)
    })

    it('tables printed to a pipe have no trailing spaces', async () => {
      const done = await insert(t.d, { task: 'tasks#hello' })
      await insert(t.d, { task: 'a-much-longer/task/reference#withAnExport' })
      await setStatus(t.d, done, 'completed', { output: 'ok' })
      const [list, stats] = await Promise.all([sqOk(t.db, ['list']), sqOk(t.db, ['stats'])])
      for (const text of [list, stats]) {
        assert.ok(text.split('\n').length > 2, text)
        assert.doesNotMatch(text, / +$/m, `no line ends with a space:\n${text.replaceAll(' ', '·')}`)
      }
    })
  })
}
