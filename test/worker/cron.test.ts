import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from './fixtures.js'

/** Workers under cron (SPEC §6): the burst's exit code, --quiet, --log-format json, `enqueue --wait`'s last newline. */
for (const dialect of DIALECTS) {
  describeOn(dialect, `workers under cron (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect, {
      'tasks.mjs': TASKS,
      'ends.mjs':
        "export function bare() { return 'no newline' }\nexport function lined() { return 'ends a line\\n' }\n",
    })

    it('a --quiet burst whose tasks all completed exits 0 and prints nothing at all', async () => {
      const ids = [await s.enqueue('tasks#text'), await s.enqueue('tasks#gen')]
      const w = s.worker(['--burst', '--quiet'])
      assert.deepEqual(await w.ended(), { code: 0, signal: null }, w.output)
      assert.equal(w.stdout, '')
      assert.equal(w.stderr, '')
      for (const id of ids) assert.equal((await s.get(id)).status, 'completed')
    })

    it('a burst that ran a failing task exits 1; --quiet prints only the failure', async () => {
      const ok = await s.enqueue('tasks#text')
      const bad = await s.enqueue('tasks#boom')
      const w = s.worker(['--burst', '--quiet'])
      assert.deepEqual(await w.ended(), { code: 1, signal: null }, w.output)
      assert.equal((await s.get(ok)).status, 'completed')
      const lines = w.stdout.trimEnd().split('\n')
      assert.equal(lines.length, 1, w.output)
      assert.match(lines[0]!, new RegExp(`^\\S+Z failed ${bad} in \\S+s: Error: boom: the task broke$`))
      assert.equal(w.stderr, 'sq: 1 of the 2 task(s) this burst ran did not complete\n')
    })

    it('a burst exits 1 when a failed run waits for its retry beyond the burst', async () => {
      const id = await s.enqueue('tasks#boom', {}, { maxAttempts: 2 })
      const w = s.worker(['--burst'])
      assert.deepEqual(await w.ended(), { code: 1, signal: null }, w.output)
      assert.match(w.stdout, new RegExp(`will retry \\(in 2s\\) ${id}`))
      assert.equal((await s.get(id)).status, 'queued')
    })

    it("--log-format json prints one object per line, with a task's fields on its lines; the heartbeat at --log-level debug only", async () => {
      const id = await s.enqueue('tasks#sleepy', { ms: 900 })
      const fast = { SQ_HEARTBEAT_TIMEOUT: '1' } // a heartbeat every 250 ms
      const info = await s.burst(['--log-format', 'json'], fast)
      await s.enqueue('tasks#sleepy', { ms: 900 })
      const debug = await s.burst(['--log-format', 'json', '--log-level', 'debug'], fast)

      const parse = (stdout: string) =>
        stdout
          .trimEnd()
          .split('\n')
          .map((line) => JSON.parse(line) as Record<string, unknown>)
      const infoLines = parse(info.stdout)
      for (const line of infoLines) {
        assert.deepEqual(Object.keys(line).slice(0, 4), ['time', 'level', 'pid', 'msg'])
        assert.ok(!Number.isNaN(Date.parse(String(line.time))))
        assert.equal(line.pid, info.pid)
      }
      // The lines about the task carry its fields, as pino users filter and sum them.
      const worker = /^worker (\S+) started/.exec(String(infoLines[0]!.msg))![1]
      const started = infoLines.find((l) => String(l.msg).startsWith('started '))!
      const { time: _t, level: _l, pid: _p, msg: _m, ...startFields } = started
      assert.deepEqual(startFields, { task_id: id, task: 'tasks#sleepy', attempt: 1, status: 'progress', worker })
      const ended = infoLines.find((l) => String(l.msg).startsWith('completed '))!
      const { time: _t2, level: _l2, pid: _p2, msg: _m2, duration_ms, ...endFields } = ended
      assert.deepEqual(endFields, { task_id: id, task: 'tasks#sleepy', attempt: 1, status: 'completed', worker })
      assert.ok(typeof duration_ms === 'number' && duration_ms >= 900 && duration_ms < 10_000, String(duration_ms))
      for (const line of infoLines.filter((l) => l !== started && l !== ended))
        assert.deepEqual(Object.keys(line), ['time', 'level', 'pid', 'msg'], 'a line about no task: the four fields')
      assert.ok(
        infoLines.some((l) => l.level === 'info' && /^completed \S+ in /.test(String(l.msg))),
        info.stdout,
      )
      assert.ok(!infoLines.some((l) => /Heartbeat/.test(String(l.msg))), 'no heartbeat at the default level')
      const beats = parse(debug.stdout).filter((l) => /^\[RAM Usage: [\d.]+ MiB\] Heartbeat: /.test(String(l.msg)))
      assert.ok(beats.length > 0, debug.stdout)
      for (const beat of beats) assert.equal(beat.level, 'debug')
    })

    it('--quiet and --log-level together are refused with exit 2', async () => {
      const w = s.worker(['--burst', '--quiet', '--log-level', 'debug'])
      assert.equal((await w.ended()).code, 2)
      assert.match(w.stderr, /^sq: .*--quiet.*\n$|^sq: .*--log-level.*\n$/)
    })

    it('sq enqueue --wait ends the streamed output with a newline, adding none when it has one', async () => {
      const bare = s.sq(['enqueue', 'ends#bare', '--queue', s.q, '--wait'])
      const lined = s.sq(['enqueue', 'ends#lined', '--queue', s.q, '--wait'])
      const w = s.worker()
      assert.deepEqual(await bare.ended(), { code: 0, signal: null }, bare.output)
      assert.deepEqual(await lined.ended(), { code: 0, signal: null }, lined.output)
      w.signal('SIGTERM')
      assert.equal((await w.ended()).code, 0, w.output)
      assert.equal(bare.stdout, 'no newline\n')
      assert.equal(lined.stdout, 'ends a line\n')
    })
  })
}
