import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { cleanEnv, runSq, SQ_BIN } from '../helpers/cli.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'

/**
 * The real `sq top` in a real pseudo-terminal (a tmux pane of 80×24, on a tmux server of its own),
 * against a real `sq worker` running a generator task: the streamed output appears and grows, colours
 * follow NO_COLOR, the password stays hidden, and `q` exits 0 with the terminal restored.
 */

const TASKS = `
export async function* count({ n }) {
  for (let i = 0; i < n; i++) {
    yield \`line \${i}\\n\`
    await new Promise((r) => setTimeout(r, 300))
  }
}
`

class Tmux {
  readonly socket = `sq-e2e-${randomBytes(4).toString('hex')}`
  private run(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' })
  }
  /** Starts `command` in a detached 80×24 session named `name`; what it exits with is printed after it. */
  start(name: string, command: string, env: Record<string, string | undefined>) {
    const exports = Object.entries(env)
      .filter(([k, v]) => v !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `${k}=${shellQuote(v!)}`)
    // `env -i`: the pane gets exactly this environment, not the tmux server's.
    this.run([
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '80',
      '-y',
      '24',
      `env -i ${exports.join(' ')} ${command}; echo SQ_TOP_EXIT=$?; sleep 60`,
    ])
  }
  capture(name: string, escapes = false): string {
    return this.run(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', name])
  }
  keys(name: string, ...keys: string[]) {
    this.run(['send-keys', '-t', name, ...keys])
  }
  kill() {
    try {
      this.run(['kill-server'])
    } catch {
      // already gone
    }
  }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  ms = 15_000,
  last?: () => string,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `; the screen:\n${last()}` : ''}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The highest "line N" the pane shows. */
const highestLine = (screen: string) =>
  Math.max(-1, ...[...screen.matchAll(/^line (\d+)\s*$/gm)].map((m) => Number(m[1])))

/** SGR parameters that set a colour (foreground or background, 16, 256 or true colour). */
function usesColour(screen: string): boolean {
  return [...screen.matchAll(/\x1b\[([0-9;]*)m/g)].some((m) =>
    m[1]!.split(';').some((p) => /^(3[0-8]|4[0-8]|9[0-7]|10[0-7])$/.test(p)),
  )
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `sq top in a terminal (${dialect})`, function () {
    this.timeout(60_000)
    let db: TestDatabase
    let url: string
    let worker: ChildProcess | undefined
    const tmux = new Tmux()

    before(async () => {
      try {
        execFileSync('tmux', ['-V'])
      } catch {
        throw new Error('tmux is needed for the sq top end-to-end test (apt-get install tmux)')
      }
      db = await createTestDatabase(dialect)
      // A password in the URL must never reach the screen (trust auth ignores it).
      url = dialect === 'postgres' ? db.url.replace('postgres://postgres@', 'postgres://postgres:s3cr3t-pw@') : db.url
      fs.writeFileSync(path.join(db.dir, 'jobs.mjs'), TASKS)
    })
    after(async () => {
      tmux.kill()
      if (worker && worker.exitCode === null) {
        const exited = new Promise((r) => worker!.once('exit', r))
        worker.kill('SIGTERM')
        setTimeout(() => worker!.kill('SIGTERM'), 200).unref() // a second signal: stop at once
        await exited
      }
      await db?.drop()
    })

    const env = () => ({ ...cleanEnv(), CI: undefined, TERM: 'xterm-256color', NO_COLOR: undefined })

    it('streams a running task’s output as it grows, and q exits 0', async () => {
      const enqueued = await runSq(['enqueue', 'jobs#count', '--args', '{"n":40}', '--db', url], { cwd: db.dir })
      assert.equal(enqueued.code, 0, enqueued.stderr)
      const id = enqueued.stdout.trim()

      tmux.start(
        'top',
        `sh -c ${shellQuote(`cd ${shellQuote(db.dir)} && ${shellQuote(process.execPath)} ${shellQuote(SQ_BIN)} top --db ${shellQuote(url)}`)}`,
        env(),
      )
      const screen = () => tmux.capture('top')
      await until('the header', () => screen().includes('queued 1'), 15_000, screen)

      worker = spawn(process.execPath, [SQ_BIN, 'worker', '--db', url], {
        cwd: db.dir,
        env: cleanEnv(),
        stdio: 'ignore',
      })

      const first = await until(
        'the output pane',
        () => {
          const s = screen()
          return s.includes(`Output · ${id.slice(0, 8)} jobs#count · in progress`) && highestLine(s) >= 2 && s
        },
        20_000,
        screen,
      )
      assert.match(first, new RegExp(`▶ ${id.slice(0, 8)} jobs#count`))
      assert.match(first, /running 1/)
      assert.match(first, /workers 1: /)
      for (const line of first.split('\n')) assert.ok([...line].length <= 80, `wider than 80: ${line}`)
      if (dialect === 'postgres') {
        assert.match(first, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/)
        assert.ok(!first.includes('s3cr3t'), 'the password is on the screen')
      }
      const n1 = highestLine(first)
      const grown = await until(
        'the output to grow',
        () => {
          const s = screen()
          return highestLine(s) >= n1 + 3 && s
        },
        10_000,
        screen,
      )
      // Lines come in order and the newest is the last line of the pane.
      assert.match(grown, new RegExp(`^line ${highestLine(grown) - 1}\\s*\\n+line ${highestLine(grown)}\\s*$`, 'm'))
      assert.ok(usesColour(tmux.capture('top', true)), 'colours are on without NO_COLOR')

      tmux.keys('top', 'q')
      const after = await until(
        'sq top to exit',
        () => {
          const s = screen()
          return s.includes('SQ_TOP_EXIT=') && s
        },
        10_000,
        screen,
      )
      assert.match(after, /SQ_TOP_EXIT=0/)
      // The alternate screen is left: the UI is gone from the terminal.
      assert.doesNotMatch(after, /Recent failures/)
    })

    it('has no colour with NO_COLOR', async () => {
      tmux.start(
        'plain',
        `sh -c ${shellQuote(`cd ${shellQuote(db.dir)} && ${shellQuote(process.execPath)} ${shellQuote(SQ_BIN)} top --db ${shellQuote(url)}`)}`,
        { ...env(), NO_COLOR: '1' },
      )
      const screen = await until(
        'the screen',
        () => {
          const s = tmux.capture('plain', true)
          return s.includes('Recent failures') && s.includes('workers') && s
        },
        15_000,
        () => tmux.capture('plain'),
      )
      assert.ok(!usesColour(screen), `colour codes with NO_COLOR:\n${JSON.stringify(screen.slice(0, 400))}`)
      tmux.keys('plain', 'C-c')
      await until(
        'Ctrl-C to quit',
        () => tmux.capture('plain').includes('SQ_TOP_EXIT=0'),
        10_000,
        () => tmux.capture('plain'),
      )
    })

    it('refuses to run without a terminal: one line, exit 2', async () => {
      const r = await runSq(['top', '--db', url], { cwd: db.dir })
      assert.equal(r.code, 2)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^sq: sq top needs a terminal .*\n$/)
    })
  })
}
