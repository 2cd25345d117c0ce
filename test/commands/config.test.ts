import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { DIALECTS, describeOn, useTestDatabase, type TestDatabase } from '../helpers/db.js'
import { runSq } from '../helpers/cli.js'
import { assertOneLineError, countTasks, writeTaskModule } from '../helpers/sq.js'
import type { Backend } from '../../src/storage/backend.js'

/** Precedence flag > environment > sq.config.* > default, for `db` and `maxArgsSize`. */
for (const dialect of DIALECTS) {
  describeOn(dialect, `configuration precedence (${dialect})`, () => {
    const t = useTestDatabase(dialect, { setup: writeTaskModule })
    let db: TestDatabase
    let d: Backend
    // A database that cannot be opened: wherever it wins, the command fails.
    let nowhere: string
    const run = (args: string[], env: Record<string, string> = {}, cwd = db.dir) =>
      runSq(args, { cwd, env, timeoutMs: 60_000 })
    const configDir = (name: string, file: string, content: string) => {
      const dir = path.join(db.dir, name)
      fs.mkdirSync(dir, { recursive: true })
      writeTaskModule(dir)
      fs.writeFileSync(path.join(dir, file), content)
      return dir
    }

    before(() => {
      ;({ db, d } = t)
      nowhere = path.join(db.dir, 'no-such-dir', 'x.db')
    })

    it('db: flag > SQ_DATABASE_URL > sq.config.json > ./sq.db', async () => {
      const fromConfig = configDir('cfg-db', 'sq.config.json', JSON.stringify({ db: db.url }))
      const wrongConfig = configDir('cfg-wrong', 'sq.config.json', JSON.stringify({ db: nowhere }))
      const plain = configDir('plain', 'unused.txt', '')
      const before = await countTasks(d)
      const [config, envOverConfig, flagOverEnv, envLoses, defaultDb] = await Promise.all([
        run(['enqueue', 'tasks#hello'], {}, fromConfig),
        run(['enqueue', 'tasks#hello'], { SQ_DATABASE_URL: db.url }, wrongConfig),
        run(['enqueue', 'tasks#hello', '--db', db.url], { SQ_DATABASE_URL: nowhere }, wrongConfig),
        run(['enqueue', 'tasks#hello', '--db', nowhere], { SQ_DATABASE_URL: db.url }),
        run(['enqueue', 'tasks#hello'], {}, plain),
      ])
      for (const r of [config, envOverConfig, flagOverEnv, defaultDb]) assert.equal(r.code, 0, r.stderr)
      assertOneLineError(envLoses, 1, /no-such-dir/)
      assert.equal(await countTasks(d), before + 3)
      assert.ok(fs.existsSync(path.join(plain, 'sq.db')), 'the default is ./sq.db')
    })

    it('maxArgsSize: SQ_MAX_ARGS_SIZE > sq.config.mjs / .ts / .json > 1 MiB default', async () => {
      const big = `{"text":"${'x'.repeat(100)}"}` // 111 bytes
      const mjs = configDir('cfg-mjs', 'sq.config.mjs', 'export default { maxArgsSize: 50 }\n')
      const ts = configDir(
        'cfg-ts',
        'sq.config.ts',
        'const size: number = 50\nexport default { maxArgsSize: size } satisfies Record<string, unknown>\n',
      )
      const json = configDir('cfg-json', 'sq.config.json', '{"maxArgsSize": 50}')
      const env = { SQ_DATABASE_URL: db.url }
      fs.writeFileSync(path.join(db.dir, 'huge.json'), JSON.stringify({ text: 'x'.repeat(1024 * 1024) }))
      fs.writeFileSync(path.join(db.dir, 'fits.json'), JSON.stringify({ text: 'x'.repeat(1024 * 1024 - 20) }))
      const before = await countTasks(d)
      const [byMjs, byTs, byJson, envWins, hugeDefault, fitsDefault] = await Promise.all([
        run(['enqueue', 'tasks#hello', '--args', big], env, mjs),
        run(['enqueue', 'tasks#hello', '--args', big], env, ts),
        run(['enqueue', 'tasks#hello', '--args', big], env, json),
        run(['enqueue', 'tasks#hello', '--args', big], { ...env, SQ_MAX_ARGS_SIZE: '200' }, mjs),
        run(['enqueue', 'tasks#hello', '--args', '@huge.json'], env),
        run(['enqueue', 'tasks#hello', '--args', '@fits.json'], env),
      ])
      for (const r of [byMjs, byTs, byJson, hugeDefault]) assertOneLineError(r, 2, /over the limit/)
      assert.match(byMjs.stderr, /limit of 50/)
      assert.match(hugeDefault.stderr, /limit of 1048576/)
      for (const r of [envWins, fitsDefault]) assert.equal(r.code, 0, r.stderr)
      assert.equal(await countTasks(d), before + 2)
    })

    it('a malformed config file is an error that names the file', async () => {
      const cases = [
        configDir('bad-json', 'sq.config.json', '{ "db": '),
        configDir('bad-mjs', 'sq.config.mjs', 'export default { db: \n'),
        configDir('bad-array', 'sq.config.json', '[1, 2]'),
        configDir('bad-key', 'sq.config.json', '{"database": "x.db"}'),
        configDir('bad-value', 'sq.config.json', '{"maxArgsSize": "lots"}'),
      ]
      const results = await Promise.all(cases.map((dir) => run(['list'], { SQ_DATABASE_URL: db.url }, dir)))
      results.forEach((r, i) => {
        assertOneLineError(r, 2)
        assert.ok(
          r.stderr.includes(
            path.join(cases[i]!, path.basename(cases[i]!) === 'bad-mjs' ? 'sq.config.mjs' : 'sq.config.json'),
          ),
          `names the file: ${r.stderr}`,
        )
      })
      assert.match(results[3]!.stderr, /unknown setting "database"/)
      assert.match(results[4]!.stderr, /maxArgsSize/)
    })
  })
}
