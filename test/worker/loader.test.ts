import assert from 'node:assert/strict'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { workerSuite } from '../helpers/worker.js'

/**
 * A project as `npm init` makes it (package.json without "type": tsx compiles its .ts files to
 * CommonJS) and one with "type": "module": tasks, hooks and sq.config.ts in TypeScript and plain
 * JavaScript load the same in both (one loader, one rule to find an export). The module project is
 * the control: it worked before the CommonJS one did.
 */
const PROJECTS = {
  commonjs: {
    'package.json': JSON.stringify({ name: 'app', version: '1.0.0', main: 'index.js' }),
    'tasks/plain.js': "exports.hello = function () { return 'plain js' }\n",
  },
  module: {
    'package.json': JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }),
    'tasks/plain.js': "export function hello() { return 'plain js' }\n",
  },
}

const COMMON = {
  'tasks/hello.ts': "export default function hello({ name }: { name: string }): string { return 'hello ' + name }\n",
  'tasks/lib.ts': "export const suffix = (text: string): string => text + '!'\n",
  'tasks/named.ts': "import { suffix } from './lib'\nexport function greet(): string { return suffix('named') }\n",
  'tasks/fn.cjs': "module.exports = function () { return 'module.exports = fn' }\n",
  'hooks.ts': `
interface Task { task: string }
export function beforeJob(task: Task): void { console.log('hook beforeJob ' + task.task) }
export function onSuccess(task: Task): void { console.log('hook onSuccess ' + task.task) }
`,
  'sq.config.ts': "const hooks: string = 'hooks'\nexport default { hooks }\n",
}

for (const dialect of DIALECTS) {
  for (const [kind, files] of Object.entries(PROJECTS)) {
    describeOn(dialect, `loading tasks, hooks and sq.config.ts in a ${kind} project (${dialect})`, function () {
      this.timeout(60_000)
      const s = workerSuite(dialect, { ...COMMON, ...files })

      it('runs a .ts default export, a .ts named export, a .cjs module.exports = fn and a .js module', async () => {
        const expected: Record<string, string> = {
          'tasks/hello': 'hello world',
          'tasks/named#greet': 'named!',
          'tasks/fn': 'module.exports = fn',
          'tasks/plain#hello': 'plain js',
        }
        const ids = Object.fromEntries(
          await Promise.all(
            Object.keys(expected).map(async (task) => {
              return [task, await s.enqueue(task, task === 'tasks/hello' ? { name: 'world' } : {})] as const
            }),
          ),
        )
        await s.burst()
        for (const [task, output] of Object.entries(expected)) {
          const t = await s.get(ids[task]!)
          assert.equal(t.status, 'completed', `${task}: ${t.error}`)
          assert.equal(t.output, output)
          // The hooks module (TypeScript) named by sq.config.ts (TypeScript), both found by the same rule.
          assert.match(t.log!, new RegExp(`^hook beforeJob ${task}$`, 'm'))
          assert.match(t.log!, new RegExp(`^hook onSuccess ${task}$`, 'm'))
        }
      })
    })
  }
}
