import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { insertTask } from '../../src/storage/task-repository.js'
import { cleanEnv, SQ_BIN } from '../helpers/cli.js'
import { DIALECTS, describeOn, useTestDatabase } from '../helpers/db.js'
import { newTask } from '../helpers/sq.js'

/**
 * `sq top` in a real pseudo-terminal (a tmux pane on a tmux server of its own) over rows another
 * writer put in the table: progress of the wrong shape on a running task, args nested thousands of
 * levels deep, args that are not JSON. It draws them all, and `q` exits 0.
 */

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq top over poison rows (${dialect})`, function () {
    this.timeout(60_000)
    const t = useTestDatabase(dialect)
    const socket = `sq-poison-${randomBytes(4).toString('hex')}`
    const tmux = (...args: string[]) =>
      execFileSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { encoding: 'utf8' })
    after(() => {
      try {
        tmux('kill-server')
      } catch {
        // already gone
      }
    })

    it('draws the running task with malformed progress and exits on q', async () => {
      const deep = `{"a":${'['.repeat(4200)}${']'.repeat(4200)}}`
      await insertTask(t.d, newTask({ argsJson: deep }))
      await insertTask(t.d, newTask({ argsJson: 'not json {' }))
      const running = await insertTask(t.d, newTask({ argsJson: deep }))
      await t.d.db
        .updateTable('sq_tasks')
        .set({
          status: 'progress',
          started: new Date().toISOString(),
          worker: 'h:1',
          progress: '{"current":1,"total":2,"message":7}',
        })
        .where('id', '=', running.id)
        .execute()

      const env = { ...cleanEnv(), CI: undefined, TERM: 'xterm-256color' }
      const exports = Object.entries(env)
        .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        .map(([k, v]) => `${k}=${quote(v!)}`)
      const command = `cd ${quote(t.db.dir)} && ${quote(process.execPath)} ${quote(SQ_BIN)} top --db ${quote(t.db.url)}`
      tmux(
        'new-session',
        '-d',
        '-s',
        'top',
        '-x',
        '100',
        '-y',
        '30',
        `env -i ${exports.join(' ')} sh -c ${quote(command)}; echo SQ_TOP_EXIT=$?; sleep 60`,
      )
      const screen = () => tmux('capture-pane', '-p', '-t', 'top')
      const until = async (what: string, probe: (s: string) => boolean) => {
        const end = Date.now() + 15_000
        for (;;) {
          const s = screen()
          if (probe(s)) return s
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}; the screen:\n${s}`)
          await new Promise((r) => setTimeout(r, 100))
        }
      }
      const drawn = await until('the running task', (s) => s.includes(running.id.slice(0, 8)) || /SQ_TOP_EXIT/.test(s))
      assert.doesNotMatch(drawn, /SQ_TOP_EXIT/, `sq top ended:\n${drawn}`)
      assert.match(drawn, /queued 2/)
      tmux('send-keys', '-t', 'top', 'q')
      const after = await until('sq top to exit', (s) => /SQ_TOP_EXIT=\d+/.test(s))
      assert.match(after, /SQ_TOP_EXIT=0/)
    })
  })
}
