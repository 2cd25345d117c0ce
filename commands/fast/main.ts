import fs from 'node:fs'
import os from 'node:os'
import type { Settings } from '../../src/config.js'
import type { Queue } from '../../src/queue/queue.js'
import type { EnqueueFlags } from '../actions/enqueue.js'
import { concealCommandLinePasswords } from '../../src/command-line-secrets.js'
import { logJsonDocument, logLine, type CommandIO } from '../actions/io.js'
import type { ListFlags } from '../actions/list.js'
import { reportError } from '../actions/report-error.js'
import type { ShowFlags } from '../actions/show.js'
import type { WorkerFlags } from '../actions/worker.js'
import { helpRequest, printHelp } from './help.js'
import { parsePlain, type Parsed } from './parse.js'
import { FAST_COMMANDS, isFastCommand, type FastCommand } from './specs.js'

/**
 * The fast path of `sq`: `enqueue`, `show`, `list`, `worker`, `--version` and help (oclif's, rendered at
 * build time: fast/help.ts) on plain input, without loading oclif (importing @oclif/core alone costs
 * about as much as node's own start; for a worker, ~15 MB of memory held for its whole life). Returns
 * false when it did nothing and oclif must run the command — help in another form or at another width,
 * every other command, any unusual or bad flag, SQ_CLI=oclif — so that oclif's messages, help and exit
 * codes stay the only ones. The commands
 * themselves are the same actions oclif's classes call (commands/actions/), loaded on demand so that
 * `--version` loads none of them.
 */
export async function runFast(argv: string[], packageJson: URL): Promise<boolean> {
  // First, for the oclif path too: this is the first code every `sq` command runs.
  concealCommandLinePasswords(argv)
  // DEBUG makes oclif print its own debug lines; SQ_CONTENT_TYPE=json is oclif's --json by environment.
  if (process.env.SQ_CLI === 'oclif' || process.env.DEBUG || process.env.SQ_CONTENT_TYPE) return false
  if (argv.length === 1 && argv[0] === '--version') return printVersion(packageJson)
  const help = helpRequest(argv)
  if (help !== undefined) return printHelp(help, userAgent(packageJson))
  const id = argv[0]
  if (!isFastCommand(id)) return false
  const rest = argv.slice(1)
  const parsed = parsePlain(rest, FAST_COMMANDS[id])
  if (!parsed) return false
  await runCommand(id, parsed, rest)
  return true
}

/** oclif's `--version`: its user agent. */
function printVersion(packageJson: URL): boolean {
  const agent = userAgent(packageJson)
  if (agent === undefined) return false
  logLine(agent)
  return true
}

/** oclif's user agent (`--version`, the root help's VERSION). WSL is left to oclif, which names it `wsl`. */
function userAgent(packageJson: URL): string | undefined {
  if (os.platform() === 'linux' && os.release().toLowerCase().includes('microsoft')) return undefined
  const { name, version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { name: string; version: string }
  return `${name}/${version} ${os.platform()}-${os.arch()} node-${process.version}`
}

/** What oclif's Command._run does around `run()`: catch, finally (close the queue), then the JSON. */
async function runCommand(id: FastCommand, { args, flags }: Parsed, argv: string[]): Promise<void> {
  let settings: Promise<Settings> | undefined
  let queue: Promise<Queue> | undefined
  const io: CommandIO = {
    json: flags.json === true,
    log: logLine,
    logJson: logJsonDocument,
    resolveSettings: async (f, extra) =>
      (settings ??= import('./hot.js').then((m) => m.resolveSettings({ db: f.db, root: f.root, ...extra }))),
    openQueue: async (f, extra, open) => {
      queue ??= Promise.all([import('./hot.js'), io.resolveSettings(f, extra)]).then(([m, s]) =>
        // Lazy: adding, showing and listing tasks load no query builder; a worker needs the backend.
        m.Queue.withSettings(s, { lazy: id !== 'worker', create: open?.create ?? false }),
      )
      // Kept once open only: a worker waiting for its database opens it again.
      queue.catch(() => (queue = undefined))
      return queue
    },
  }
  let result: unknown
  try {
    if (id === 'enqueue')
      result = await (await import('./hot.js')).enqueueAction(io, args[0]!, flags as unknown as EnqueueFlags)
    else if (id === 'show')
      result = await (await import('../actions/show.js')).showAction(io, args[0]!, flags as unknown as ShowFlags)
    else if (id === 'list')
      result = await (await import('../actions/list.js')).listAction(io, flags as unknown as ListFlags)
    else await (await import('../actions/worker.js')).workerAction(io, flags as unknown as WorkerFlags)
  } catch (error) {
    reportError(error, argv)
  } finally {
    const q = await queue?.catch(() => undefined)
    await q?.close().catch(() => {})
  }
  if (result && io.json) io.logJson(result)
}
