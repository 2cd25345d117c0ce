import fs from 'node:fs'
import os from 'node:os'
import { concealCommandLinePasswords } from '../../src/command-line-secrets.js'
import { type Command, commandIO, reportError } from '../actions/io.js'
import { type CommandDef, ENQUEUE, LIST, SHOW, WORKER } from '../flags.js'
import { helpRequest, printHelp } from './help.js'
import { parsePlain } from './parse.js'

/** The hot commands' tables, and their code, loaded once the argv has parsed. */
const HOT: Record<string, [CommandDef, () => Promise<Command>]> = {
  enqueue: [ENQUEUE, async () => (await import('./hot.js')).enqueue],
  show: [SHOW, async () => (await import('../show.js')).default],
  list: [LIST, async () => (await import('../list.js')).default],
  worker: [WORKER, async () => (await import('../worker.js')).default],
}

/**
 * The fast path of `sq`: the hot commands, `--version` and help (rendered at build time) on plain input,
 * without loading oclif (which costs about node's own start; a worker, ~15 MB for its life). False when
 * oclif must run it (other forms, commands or flags, SQ_CLI=oclif): its messages and exit codes stay the only ones.
 */
export async function runFast(argv: string[], packageJson: URL): Promise<boolean> {
  // First, for the oclif path too: this is the first code every `sq` command runs.
  concealCommandLinePasswords(argv)
  // DEBUG makes oclif print its own debug lines; SQ_CONTENT_TYPE=json is oclif's --json by environment.
  if (process.env.SQ_CLI === 'oclif' || process.env.DEBUG || process.env.SQ_CONTENT_TYPE) return false
  if (argv.length === 1 && argv[0] === '--version') {
    // oclif's `--version`: its user agent.
    const agent = userAgent(packageJson)
    if (agent !== undefined) console.log(agent)
    return agent !== undefined
  }
  const help = helpRequest(argv)
  if (help !== undefined) return printHelp(help, userAgent(packageJson))
  const id = argv[0]!
  const [table, load] = Object.hasOwn(HOT, id) ? HOT[id]! : []
  const parsed = table && parsePlain(argv.slice(1), table)
  if (!load || !parsed) return false
  // What oclif's Command._run does around `run()`: catch, finally (close the queue), then the JSON.
  // Lazy: adding, showing and listing tasks load no query builder; a worker needs the backend.
  const io = commandIO(parsed.flags.json === true, () => import('./hot.js'), { lazy: id !== 'worker' })
  let result: unknown
  try {
    result = await (await load()).run(io, parsed)
  } catch (error) {
    reportError(error, argv.slice(1))
  } finally {
    await io.close()
  }
  if (result && io.json) io.logJson(result)
  return true
}

/** oclif's user agent (`--version`, the root help's VERSION). WSL is left to oclif, which names it `wsl`. */
function userAgent(packageJson: URL): string | undefined {
  if (os.platform() === 'linux' && os.release().toLowerCase().includes('microsoft')) return undefined
  const { name, version } = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { name: string; version: string }
  return `${name}/${version} ${os.platform()}-${os.arch()} node-${process.version}`
}
