import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { describeOn, useTestDatabase } from '../helpers/db.js'

const BUNDLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/bundle/index.js')

describeOn('postgres', 'the pg driver (postgres)', () => {
  const t = useTestDatabase('postgres')

  // pg probes for Cloudflare Workers as it loads; on Node 20 the probe built a Response, which loaded
  // Node's whole fetch stack (~9 MB) into every process on PostgreSQL.
  it("opening a PostgreSQL queue loads neither Node's fetch stack nor leaves a navigator behind", async () => {
    const script = `
      const before = typeof globalThis.navigator
      const { openQueue } = await import(${JSON.stringify(pathToFileURL(BUNDLE).href)})
      const q = await openQueue({ db: process.env.DB })
      await q.list({ limit: 1 })
      await q.close()
      const fetchStack = process.moduleLoadList.filter((m) => /undici|http2|\\btls\\b/.test(m))
      console.log(JSON.stringify({ before, after: typeof globalThis.navigator, fetchStack }))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: t.db.dir,
      env: { ...process.env, DB: t.db.url },
    })
    const seen = JSON.parse(stdout)
    assert.equal(seen.after, seen.before)
    assert.deepEqual(seen.fetchStack, [])
  })

  // pg loads node:crypto for password authentication only; it is loaded when first used.
  it('loads node:crypto only when pg hashes a password, and then hashes it as pg does', async () => {
    const script = `
      import { createRequire } from 'node:module'
      const { openQueue } = await import(${JSON.stringify(pathToFileURL(BUNDLE).href)})
      const q = await openQueue({ db: process.env.DB })
      await q.list({ limit: 1 })
      await q.close()
      const loaded = process.moduleLoadList.includes('NativeModule crypto')
      const pgCrypto = createRequire(${JSON.stringify(BUNDLE)})('pg/lib/crypto/utils.js')
      const hash = await pgCrypto.postgresMd5PasswordHash('ann', 'secret', Buffer.from([1, 2, 3, 4]))
      console.log(JSON.stringify({ loaded, hash }))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: t.db.dir,
      env: { ...process.env, DB: t.db.url },
    })
    const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex')
    const expected = `md5${md5(Buffer.concat([Buffer.from(md5('secretann')), Buffer.from([1, 2, 3, 4])]))}`
    assert.deepEqual(JSON.parse(stdout), { loaded: false, hash: expected })
  })
})
