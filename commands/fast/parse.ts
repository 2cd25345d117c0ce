import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { CommandSpec } from './specs.js'

export interface Parsed {
  args: string[]
  flags: Record<string, string | number | boolean | string[] | undefined>
}

/**
 * Parses a hot command's argv the way oclif would, or returns undefined whenever the input is anything
 * but plain — an unknown or repeated flag, a value that starts with a dash, grouped short flags, `--`,
 * a wrong number of arguments, an integer oclif would refuse, exclusive flags together — so that oclif
 * parses it and prints its own error or help. Being conservative is what keeps the two paths
 * identical: the fast path only ever accepts input on which oclif's parse cannot differ.
 */
export function parsePlain(argv: string[], spec: CommandSpec): Parsed | undefined {
  if (argv.some((a) => a === '--' || /^-[^-]{2,}/.test(a))) return undefined
  const options: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, f] of Object.entries(spec.flags)) {
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
    const f = spec.flags[token.name]!
    if (seen.has(token.name) && !f.multiple) return undefined
    seen.add(token.name)
    if (f.multiple) afterMultiple = true
    if (token.value !== undefined && (token.value === '' || (token.value.startsWith('-') && token.value !== '-')))
      return undefined
  }
  if (result.positionals.length !== spec.args) return undefined
  const flags: Parsed['flags'] = {}
  for (const [name, f] of Object.entries(spec.flags)) {
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
      flags[name] = raw as string | boolean | string[]
    }
  }
  return { args: result.positionals, flags }
}
