import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { insert } from '../helpers/sq.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'

/** A module that leaves a marker file beside itself as soon as it is imported. */
const MARKER = `
import fs from 'node:fs'
fs.writeFileSync(new URL('./imported-' + import.meta.url.split('/').pop(), import.meta.url), 'imported')
export default function () { return 'ran outside the root' }
`

/** A row that did not come through `sq enqueue` (which refuses these references), in the test's queue. */
async function insertRow(s: WorkerSuite, task: string): Promise<string> {
  const id = await insert(s.queue.backend, { task, queue: s.q })
  return id
}

/** The worker judges a reference on its module's real path, and refuses built-ins (SPEC §2, §7). */
for (const dialect of DIALECTS) {
  describeOn(dialect, `worker policy on real paths and built-ins (${dialect})`, function () {
    this.timeout(60_000)
    const s = workerSuite(dialect)
    let outside: string
    before(() => {
      // Outside the root, reached through links inside it: `ln -s ../../outside/evil.mjs links/evil.mjs`.
      outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-outside-'))
      for (const name of ['evil.mjs', 'allowed.mjs']) fs.writeFileSync(path.join(outside, name), MARKER)
      fs.mkdirSync(path.join(s.db.dir, 'links'))
      for (const name of ['evil.mjs', 'allowed.mjs']) {
        fs.symlinkSync(
          path.relative(path.join(s.db.dir, 'links'), path.join(outside, name)),
          path.join(s.db.dir, 'links', name),
        )
      }
    })
    after(() => fs.rmSync(outside, { recursive: true, force: true }))

    it('fails a task whose module is a link out of the root, without importing it', async () => {
      const id = await insertRow(s, 'links/evil')
      await s.burst([], {}, { exit: 1 })
      const t = await s.get(id)
      assert.equal(t.status, 'failed')
      assert.match(t.error!, /^task not allowed: "links\/evil" leaves the root .* through a symbolic link/)
      assert.equal(
        fs.existsSync(path.join(outside, 'imported-evil.mjs')),
        false,
        'the module outside the root was never imported',
      )
    })

    it('fails a task naming a Node.js built-in module, allowlisted or not', async () => {
      const plain = await insertRow(s, 'node:child_process#exec')
      const allowlisted = await insertRow(s, 'fs#rmSync')
      await s.burst([], { SQ_ALLOWED_TASKS: 'tasks#text,fs#rmSync,node:child_process#exec' }, { exit: 1 })
      for (const id of [plain, allowlisted]) {
        const t = await s.get(id)
        assert.equal(t.status, 'failed')
        assert.match(t.error!, /^task not allowed: "(node:child_process|fs)" is a Node\.js built-in module/)
      }
    })

    it('runs a link out of the root that is on the allowlist', async () => {
      const id = await insertRow(s, 'links/allowed')
      await s.burst([], { SQ_ALLOWED_TASKS: 'links/allowed' })
      const t = await s.get(id)
      assert.equal(t.status, 'completed', t.error ?? '')
      assert.equal(t.output, 'ran outside the root')
    })
  })
}
