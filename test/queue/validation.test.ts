import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { parseCliArgs, serializeArgs } from '../../src/queue/args.js'
import { isAllowed, parseReference, authorizeReference } from '../../src/queue/reference.js'
import { TaskNotAllowedError, UsageError } from '../../src/errors.js'
import { createTestDatabase, DIALECTS, describeOn, type TestDatabase } from '../helpers/db.js'
import { writeTaskModule } from '../helpers/sq.js'
import { Queue } from '../../src/queue/queue.js'

/** `--args` sources for parseCliArgs: `stdin` is the text a `-` reads. */
const from = (stdin = '', maxArgsSize = 1024) => ({ stdin: () => Readable.from([Buffer.from(stdin)]), maxArgsSize })

describe('task args', () => {
  it('merges --args with --arg pairs, values parsed as JSON when they parse', async () => {
    assert.deepEqual(await parseCliArgs('{"a":1,"b":{"c":2}}', ['b=3', 'd=x y', 'e=null', 'f=[1]'], from()), {
      a: 1,
      b: 3,
      d: 'x y',
      e: null,
      f: [1],
    })
    assert.deepEqual(await parseCliArgs('-', [], from('{"s":1}')), { s: 1 })
    assert.deepEqual(
      await parseCliArgs(undefined, [], { stdin: () => assert.fail('stdin is not read'), maxArgsSize: 1 }),
      {},
    )
    const tricky = await parseCliArgs(undefined, ['__proto__={"polluted":1}', 'constructor=x'], from())
    assert.equal(JSON.stringify(tricky), '{"__proto__":{"polluted":1},"constructor":"x"}')
    assert.equal(Object.getPrototypeOf(tricky), Object.prototype)
  })
  it('refuses non-objects with a message that says what was given', async () => {
    for (const [text, what] of [
      ['[]', /an array/],
      ['"s"', /a string/],
      ['1', /a number/],
      ['null', /null/],
      ['true', /a boolean/],
      ['', /not valid JSON/],
    ] as const) {
      await assert.rejects(
        parseCliArgs(text, [], from()),
        (e: Error) => e instanceof UsageError && what.test(e.message),
      )
    }
  })
  it('reads stdin to at most maxArgsSize + 1 bytes, and never quotes its content in an error', async () => {
    assert.deepEqual(await parseCliArgs('-', [], from('{"a":"12345"}', 13)), { a: '12345' })
    await assert.rejects(parseCliArgs('-', [], from('{"a":"123456"}', 13)), /stdin is over the limit of 13 bytes/)
    let read = 0
    async function* endless() {
      for (;;) {
        read += 1024
        yield Buffer.alloc(1024)
      }
    }
    await assert.rejects(
      parseCliArgs('-', [], { stdin: () => Readable.from(endless()), maxArgsSize: 4096 }),
      /over the limit/,
    )
    // The stream reads a few chunks ahead; what matters is that it stopped.
    assert.ok(read < 64 * 1024, `read ${read} bytes of an endless stdin`)
    for (const secret of ['root:*:19000:0:99999:7:::', '{"a": root:*:19000}', '{"a":"root:*:19000"']) {
      await assert.rejects(
        parseCliArgs('-', [], from(secret)),
        (e: Error) => /not valid JSON/.test(e.message) && !e.message.includes('root'),
        secret,
      )
    }
  })
  it('serializeArgs: TypeError for non-plain objects, UsageError over the size limit', () => {
    assert.equal(serializeArgs({ a: 'é' }, 10), '{"a":"é"}')
    assert.throws(() => serializeArgs({ a: 'éé' }, 10), UsageError, 'bytes, not characters')
    assert.throws(() => serializeArgs(Object.assign(Object.create({ inherited: 1 }), { a: 1 }), 100), TypeError)
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    assert.throws(() => serializeArgs(cyclic, 100), TypeError)
    assert.equal(serializeArgs(Object.create(null), 100), '{}')
  })
})

describe('task references', () => {
  let root: string
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-test-'))
    writeTaskModule(root, 'a/b.cts', 'exports.run = () => 1\n')
    writeTaskModule(root, 'plain.js', 'export default () => 1\n')
  })
  after(() => fs.rmSync(root, { recursive: true, force: true }))

  it('parses <module>#<export>, defaulting the export', () => {
    assert.deepEqual(parseReference('a/b#run'), { module: 'a/b', exportName: 'run' })
    assert.deepEqual(parseReference(' plain '), { module: 'plain', exportName: 'default' })
    for (const bad of ['#x', 'mod#', 'mod#1bad', 'mod#a-b', 'my mod#x', ''])
      assert.throws(() => parseReference(bad), UsageError, bad)
  })
  it('matches the allowlist exactly, by module#*, or a bare module as its default export', () => {
    const ref = parseReference('a/b#run')
    assert.ok(isAllowed(ref, null))
    assert.ok(isAllowed(ref, ['a/b#run']))
    assert.ok(isAllowed(ref, ['a/b#*']))
    assert.ok(!isAllowed(ref, ['a/b']))
    assert.ok(isAllowed(parseReference('plain'), ['plain']))
    assert.ok(!isAllowed(ref, ['a/b#runner', 'a#*']))
    // module#* stands for the module's own exports, never a name every object inherits.
    for (const name of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'])
      assert.ok(!isAllowed(parseReference(`a/b#${name}`), ['a/b#*']), name)
    assert.ok(isAllowed(parseReference('a/b#toString'), ['a/b#toString']), 'named exactly, it is on the list')
    assert.ok(!isAllowed(ref, []), 'an empty allowlist allows nothing')
  })
  it('resolves the module under the root with any of the extensions, and refuses what leaves it', () => {
    assert.deepEqual(authorizeReference('a/b#run', root, null), { module: 'a/b', exportName: 'run' })
    authorizeReference('./plain', root, null)
    assert.throws(() => authorizeReference('a/c#run', root, null), /not found/)
    assert.throws(() => authorizeReference('../x#run', root, null), TaskNotAllowedError)
    assert.throws(() => authorizeReference('a/../../x#run', root, null), TaskNotAllowedError)
    assert.throws(() => authorizeReference(`${root}/plain`, root, null), TaskNotAllowedError)
    assert.throws(() => authorizeReference('plain#other', root, ['plain']), /not allowed/)
  })
  it('judges the real path: a symbolic link out of the root is refused unless allowlisted, one within it is not', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-outside-'))
    try {
      writeTaskModule(outside, 'evil.mjs', 'export default () => 1\n')
      fs.symlinkSync(path.join(outside, 'evil.mjs'), path.join(root, 'link.mjs'))
      fs.symlinkSync(outside, path.join(root, 'linked-dir'))
      fs.symlinkSync('plain.js', path.join(root, 'alias.js'))
      assert.throws(
        () => authorizeReference('link', root, null),
        (e: Error) => e instanceof TaskNotAllowedError && /leaves the root/.test(e.message),
      )
      assert.throws(() => authorizeReference('linked-dir/evil', root, null), TaskNotAllowedError)
      assert.deepEqual(authorizeReference('link', root, ['link']), { module: 'link', exportName: 'default' })
      authorizeReference('alias', root, null)
      // A root reached through a link is judged by its own real path.
      const rootLink = path.join(outside, 'root-link')
      fs.symlinkSync(root, rootLink)
      authorizeReference('alias', rootLink, null)
    } finally {
      fs.rmSync(outside, { recursive: true, force: true })
    }
  })
  it('refuses Node.js built-in modules, allowlisted or not', () => {
    for (const ref of [
      'fs#readFileSync',
      'node:fs#readFileSync',
      'child_process#exec',
      'node:child_process#exec',
      'fs/promises#rm',
    ]) {
      assert.throws(
        () => authorizeReference(ref, root, null),
        (e: Error) => e instanceof TaskNotAllowedError && /built-in/.test(e.message),
        ref,
      )
      assert.throws(() => authorizeReference(ref, root, [ref]), /built-in/, ref)
    }
  })
})

for (const dialect of DIALECTS) {
  describeOn(dialect, `Queue (${dialect})`, () => {
    let db: TestDatabase
    let q: Queue
    before(async () => {
      db = await createTestDatabase(dialect)
      writeTaskModule(db.dir)
      q = await Queue.open({ db: db.url, root: db.dir })
    })
    after(async () => {
      await q?.close()
      await db?.drop()
    })

    it('resolves full ids and unique prefixes, refuses malformed or ambiguous ones', async () => {
      const { id } = await q.enqueue({ task: 'tasks#hello' })
      assert.equal(await q.resolveId(id.slice(0, 6).toUpperCase()), id)
      assert.equal(await q.resolveId(` ${id} `), id)
      await assert.rejects(q.resolveId('abc12'), UsageError)
      await assert.rejects(q.resolveId('abcdeg'), UsageError)
      await assert.rejects(q.get('00000000-0000-4000-8000-000000000000'), /no task/)
    })

    it('requeue reports each requeued id once, in the order given', async () => {
      const a = (await q.enqueue({ task: 'tasks#hello' })).id
      const b = (await q.enqueue({ task: 'tasks#hello' })).id
      await q.cancel([a, b])
      assert.deepEqual(await q.requeue([b, a, b]), [b, a])
      await assert.rejects(q.requeueByStatus(['queued']), UsageError)
    })
  })
}
