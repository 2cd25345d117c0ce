import { parseArgs, type ParseArgsConfig } from 'node:util'
import { type CommandDef, type FlagDef, type Parsed, SHARED } from '../flags.js'

/** oclif adds --json to a command with `enableJsonFlag` (CommandDef.json); parsing needs only its type. */
const JSON_FLAG: FlagDef = { type: 'boolean', description: 'Format output as json.', default: false }

/** A hot command's argv parsed as oclif would, or undefined for oclif to judge anything but plain input. */
export function parsePlain<C extends CommandDef>(argv: string[], command: C): Parsed<C> | undefined {
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
