import fs from 'node:fs'
import os from 'node:os'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { concealCommandLinePasswords } from '../../src/command-line-secrets.js'
import { type Command, commandIO, reportError } from '../actions/io.js'
import { type CommandDef, ENQUEUE, type FlagDef, LIST, type Parsed, SHARED, SHOW, WORKER } from '../flags.js'
import { helpRequest, printHelp } from './help.js'

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

/** oclif adds --json to a command with `enableJsonFlag` (CommandDef.json); parsing needs only its type. */
const JSON_FLAG: FlagDef = { type: 'boolean', description: 'Format output as json.', default: false }

/** A hot command's argv parsed as oclif would, or undefined for oclif to judge anything but plain input. */
function parsePlain<C extends CommandDef>(argv: string[], command: C): Parsed<C> | undefined {
  if (argv.some((a) => a === '--' || /^-[^-]{2,}/.test(a))) return undefined
  const table: Record<string, FlagDef> = { ...SHARED, ...(command.json && { json: JSON_FLAG }), ...command.flags }
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, f] of Object.entries(table)) {
    options[name] = {
      type: f.type === 'boolean' ? 'boolean' : 'string',
      multiple: f.multiple ?? false,
      ...(f.char ? { short: f.char } : {}),
    }
  }
  let result: ReturnType<typeof parseArgs>
  try {
    result = parseArgs({ args: argv, options, strict: true, allowPositionals: true, tokens: true })
  } catch {
    return undefined
  }
  const seen = new Set<string>()
  let afterMultiple = false
  for (const token of result.tokens ?? []) {
    if (token.kind === 'positional') {
      // oclif gives the words after a `multiple` flag's value to that flag (greedy), not to the arguments.
      if (afterMultiple || token.value.startsWith('-')) return undefined
      continue
    }
    if (token.kind !== 'option') return undefined
    const f = table[token.name]!
    if (seen.has(token.name) && !f.multiple) return undefined
    seen.add(token.name)
    if (f.multiple) afterMultiple = true
    if (token.value !== undefined && (token.value === '' || (token.value.startsWith('-') && token.value !== '-')))
      return undefined
  }
  // Every argument of a hot command is required: a missing one is oclif's error to print.
  const names = Object.keys(command.args)
  if (result.positionals.length !== names.length) return undefined
  const flags: Record<string, unknown> = {}
  for (const [name, f] of Object.entries(table)) {
    const raw = result.values[name]
    if (raw === undefined) {
      flags[name] = f.default
      continue
    }
    if (f.exclusive?.some((other) => result.values[other] !== undefined)) return undefined
    if (f.type === 'integer') {
      if (typeof raw !== 'string' || !/^-?\d+$/.test(raw)) return undefined
      const n = Number.parseInt(raw, 10)
      if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) return undefined
      flags[name] = n
    } else if (f.options && !f.options.includes(raw as string)) {
      return undefined
    } else {
      flags[name] = raw
    }
  }
  const args = Object.fromEntries(names.map((name, i) => [name, result.positionals[i]]))
  // Where the table's types meet the parse: each value above was read by its own entry, as Parsed types it.
  return { args, flags, argv: result.positionals } as Parsed<C>
}
