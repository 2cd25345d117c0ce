import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runSq } from '../helpers/cli.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const CLI_MD = path.join(ROOT, 'docs/cli.md')

/** docs/cli.md, the CLI reference, is the commands' own help: it cannot drift from what `sq … --help` prints. */
describe('docs/cli.md', function () {
  this.timeout(60_000)
  const page = () => fs.readFileSync(CLI_MD, 'utf8')

  it('is what scripts/help-text.mjs generates from the commands (run npm run build after changing one)', () => {
    const generated = execFileSync(process.execPath, ['scripts/help-text.mjs', '--cli-md'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
    assert.ok(page() === generated, "docs/cli.md differs from the commands' help: run `npm run build` and commit it")
  })

  it('holds, for every command sq lists, the help that `sq COMMAND --help` prints', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-cli-doc-'))
    try {
      const run = (...args: string[]) => runSq(args, { cwd: dir, env: { HOME: dir } })
      const root = await run('--help')
      const ids = [...root.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)]
        .map((m) => m[1]!)
        .filter((id) => id !== 'autocomplete')
      assert.ok(ids.includes('worker') && ids.includes('enqueue'), root.stdout)
      for (const id of ids) {
        const help = await run(id, '--help')
        assert.equal(help.code, 0, help.stderr)
        // The root help's VERSION names the platform and node that run sq; the page cannot.
        const text = help.stdout.replace(/^( {2}sq-queue\/\S+) .+ node-v.+$/m, '$1 PLATFORM node-VERSION').trimEnd()
        assert.ok(page().includes(`## \`sq ${id}\`\n\n\`\`\`\n${text}\n\`\`\``), `sq ${id} --help`)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
