import type { Interfaces } from '@oclif/core'
import type { SHARED } from './flags.js'

/**
 * A command's flags and arguments as data, from which oclif's flags (commands/base.ts), the fast path's
 * parser (commands/fast/parse.ts) and the parsed values' types derive: plain data, so the fast path reads
 * it without loading oclif. The fields are oclif's, with oclif's meaning.
 */
export interface FlagDef {
  type: 'string' | 'boolean' | 'integer'
  description: string
  helpValue?: string
  char?: Interfaces.AlphabetLowercase
  multiple?: boolean
  default?: string | number | boolean | readonly string[]
  min?: number
  max?: number
  /** The values a string flag takes, and its type a union of them. */
  options?: readonly string[]
  exclusive?: readonly string[]
}

export interface ArgDef {
  description: string
  required?: boolean
}

export type FlagTable = Readonly<Record<string, FlagDef>>

/** A command's table; `json` is oclif's `enableJsonFlag` (a `--json` that prints the returned data). */
export interface CommandDef {
  readonly args: Readonly<Record<string, ArgDef>>
  readonly flags: FlagTable
  readonly json?: true
}

type ValueOf<F extends FlagDef> = F['type'] extends 'boolean'
  ? boolean
  : F['type'] extends 'integer'
    ? number
    : F extends { options: readonly (infer O)[] }
      ? O
      : F extends { multiple: true }
        ? string[]
        : string

/** The parsed values of a table's flags (a flag with no default may be absent), and of its arguments. */
export type FlagsOf<T extends FlagTable> = {
  -readonly [K in keyof T]: T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined
}

export type ArgsOf<T extends CommandDef['args']> = {
  -readonly [K in keyof T]: T[K] extends { required: true } ? string : string | undefined
}

/** A command's argv as parsed, the shared flags included; `argv`: all its arguments (a command not `strict`). */
export interface Parsed<C extends CommandDef> {
  args: ArgsOf<C['args']>
  flags: FlagsOf<C['flags']> & FlagsOf<typeof SHARED> & { json?: boolean }
  argv: string[]
}

/** Declares a command's table, keeping its literals (a default, an option list) for the derived types. */
export function defineCommand<const T extends CommandDef>(def: T): T {
  return def
}

/** A flag of each type, as oclif's (`flag.string(description, { default })`); a boolean's default is false. */
export const flag = {
  string: ofType('string', {}),
  integer: ofType('integer', {}),
  boolean: ofType('boolean', { default: false }),
}

function ofType<T extends FlagDef['type'], D extends Partial<FlagDef>>(type: T, defaults: D) {
  // biome-ignore lint/complexity/noBannedTypes: no other field is given
  return <const F extends Omit<FlagDef, 'type' | 'description'> = {}>(description: string, def: F = {} as F) => ({
    type,
    description,
    ...defaults,
    ...def,
  })
}
