import fs from 'node:fs'
import os from 'node:os'
import type { Settings } from '../../src/config.js'
import type { Queue } from '../../src/queue/queue.js'
import { concealCommandLinePasswords } from '../../src/command-line-secrets.js'
import { logJsonDocument, logLine, type CommandIO } from '../actions/io.js'
import { reportError } from '../actions/report-error.js'
import type { CommandDef } from '../flag-table.js'
import { ENQUEUE, LIST, SHOW, WORKER } from '../flags.js'
import { helpRequest, printHelp } from './help.js'
import { parsePlain, type Parsed } from './parse.js'

/** A hot command's argv, parsed: whether it asked for --json, and the action to run on it. */
interface Ready {
  json: boolean
  run(io: CommandIO): Promise<unknown>
}

/** A hot command: its table, and its action (loaded on demand) on what the table parsed. */
function hot<C extends CommandDef>(command: C, run: (io: CommandIO, parsed: Parsed<C>) => Promise<unknown>) {
  return (argv: string[]): Ready | undefined => {
    const parsed = parsePlain(argv, command)
    return parsed && { json: parsed.flags.json === true, run: (io) => run(io, parsed) }
  }
}

const HOT = {
  enqueue: hot(ENQUEUE, async (io, { args, flags }) => (await import('./hot.js')).enqueueAction(io, args.task, flags)),
  show: hot(SHOW, async (io, { args, flags }) => (await import('../actions/show.js')).showAction(io, args.id, flags)),
  list: hot(LIST, async (io, { flags }) => (await import('../actions/list.js')).listAction(io, flags)),
  worker: hot(WORKER, async (io, { flags }) => (await import('../actions/worker.js')).workerAction(io, flags)),
}

type HotCommand = keyof typeof HOT

function isHot(id: string | undefined): id is HotCommand {
  return id !== undefined && Object.hasOwn(HOT, id)
}

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
  if (!isHot(id)) return false
  const rest = argv.slice(1)
  const ready = HOT[id](rest)
  if (!ready) return false
  await runCommand(id, ready, rest)
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
async function runCommand(id: HotCommand, ready: Ready, argv: string[]): Promise<void> {
  let settings: Promise<Settings> | undefined
  let queue: Promise<Queue> | undefined
  const io: CommandIO = {
    json: ready.json,
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
    result = await ready.run(io)
  } catch (error) {
    reportError(error, argv)
  } finally {
    const q = await queue?.catch(() => undefined)
    await q?.close().catch(() => {})
  }
  if (result && io.json) io.logJson(result)
}
