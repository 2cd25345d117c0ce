import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { SQ_BIN } from '../helpers/cli.js'
import { describeOn } from '../helpers/db.js'
import { linkPackage } from '../helpers/package.js'
import { workerSuite } from '../helpers/worker.js'

const TASKS = `
import fs from 'node:fs'
import { execFileSync } from 'node:child_process'
import { createTask } from 'sq-queue'
export function env() { return JSON.stringify(process.env) }
export function environ() { return fs.readFileSync('/proc/self/environ', 'utf8').split('\\0').join('\\n') }
export function grandchild() { return execFileSync('env', { encoding: 'utf8' }) }
export async function chain({ queue }) { return createTask({ task: 'tasks#leaf', queue }) }
export function leaf() { return 'follow-up ran' }
`

/**
 * The database password stays out of what a task can print (SPEC §7 chaining; issue 24 item 5): a
 * task process's environment has the worker's database URL without it, its createTask still reaches
 * the database, and `ps` shows a worker given the password on the command line with `***` instead.
 * The local PostgreSQL trusts every connection, so any password in the URL is accepted.
 */
describeOn('postgres', 'the database password and task processes (postgres)', function () {
  this.timeout(60_000)
  const s = workerSuite('postgres', { 'tasks.mjs': TASKS })
  // The project depends on sq-queue, as a user's does: its tasks import it by name.
  before(() => linkPackage(s.db.dir))
  const password = () => `Pw${randomBytes(8).toString('hex')}`

  /** Runs the four tasks on a worker, then returns what each stored; the worker is left running. */
  async function runTasks(worker: ReturnType<typeof s.worker>) {
    const ids = Object.fromEntries(
      await Promise.all(
        ['env', 'environ', 'grandchild', 'chain'].map(
          async (name) => [name, await s.enqueue(`tasks#${name}`, name === 'chain' ? { queue: s.q } : {})] as const,
        ),
      ),
    )
    const tasks = Object.fromEntries(
      await Promise.all(Object.entries(ids).map(async ([name, id]) => [name, await s.waitForStatus(id)] as const)),
    )
    for (const [name, t] of Object.entries(tasks))
      assert.equal(t.status, 'completed', `${name}: ${t.error}\n${worker.output}`)
    const leaf = await s.waitForStatus(tasks.chain!.output!)
    assert.equal(leaf.status, 'completed', leaf.error ?? '')
    assert.equal(leaf.output, 'follow-up ran')
    return tasks
  }

  it("a worker given the password in --db: not in a task's environment nor in ps; chaining still works", async () => {
    const secret = password()
    const url = s.db.url.replace('://postgres@', `://postgres:${secret}@`)
    assert.notEqual(url, s.db.url)
    const worker = s.sq(['worker', '--db', url, '--queue', s.q])
    const tasks = await runTasks(worker)
    const env = JSON.parse(tasks.env!.output!) as Record<string, string>
    assert.equal(env.SQ_DATABASE_URL, s.db.url, 'the URL without its password')
    for (const [name, t] of Object.entries(tasks)) assert.ok(!t.output!.includes(secret), `${name} shows the password`)
    assert.match(tasks.environ!.output!, /^SQ_DATABASE_URL=postgres:\/\/postgres@/m)
    // What `ps` shows of the worker, once it runs.
    const cmdline = fs.readFileSync(`/proc/${worker.pid}/cmdline`, 'utf8')
    assert.ok(!cmdline.includes(secret), cmdline)
    assert.match(cmdline, /^sq worker --db postgres:\/\/postgres:\*\*\*@/)
    // No warning in a pipe: a one-line error stays one line (the warning is for a terminal, below).
    assert.doesNotMatch(worker.stderr, /warning/)
    worker.signal('SIGTERM')
    assert.equal((await worker.ended()).code, 0, worker.output)
    assert.ok(!worker.output.includes(secret))
  })

  it('warns once on a terminal when --db holds a password, recommending SQ_DATABASE_URL', async () => {
    const secret = password()
    const url = s.db.url.replace('://postgres@', `://postgres:${secret}@`)
    // \`script\` gives the command a terminal; its output is what the person at it sees.
    const command = [process.execPath, SQ_BIN, 'list', '--db', url].join(' ')
    const seen = execFileSync('script', ['-qec', command, '/dev/null'], { cwd: s.db.dir, encoding: 'utf8' })
    assert.equal(seen.match(/^sq: warning: the password in --db is visible to other local users/gm)?.length, 1, seen)
    assert.match(seen, /SQ_DATABASE_URL or sq\.config\.\* instead/)
    assert.ok(!seen.includes(secret), seen)
    const plain = execFileSync('script', ['-qec', command.replace(`:${secret}@`, '@'), '/dev/null'], {
      cwd: s.db.dir,
      encoding: 'utf8',
    })
    assert.doesNotMatch(plain, /warning/)
  })

  it("a worker given the password in SQ_DATABASE_URL as ?password=: not in a task's environment; no warning", async () => {
    const secret = password()
    const url = `${s.db.url}?password=${secret}`
    const worker = s.sq(['worker', '--queue', s.q], { SQ_DATABASE_URL: url })
    const tasks = await runTasks(worker)
    assert.equal((JSON.parse(tasks.env!.output!) as Record<string, string>).SQ_DATABASE_URL, s.db.url)
    for (const [name, t] of Object.entries(tasks)) assert.ok(!t.output!.includes(secret), `${name} shows the password`)
    worker.signal('SIGTERM')
    assert.equal((await worker.ended()).code, 0, worker.output)
    assert.doesNotMatch(worker.stderr, /warning/)
  })
})
