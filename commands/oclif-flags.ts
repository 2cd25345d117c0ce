import { Args, Flags, type Interfaces } from '@oclif/core'
import type { ArgsOf, CommandDef, FlagDef, FlagsOf, FlagTable } from './flag-table.js'

/** oclif's flags for a table (commands/flags.ts), typed as the table's parsed values. */
export function oclifFlags<T extends FlagTable>(table: T): Interfaces.FlagInput<FlagsOf<T>> {
  const flags: Interfaces.FlagInput = {}
  for (const [name, def] of Object.entries(table)) flags[name] = oclifFlag(def)
  // Where the table's types meet oclif's: each flag was built above from its own entry, as FlagsOf reads it.
  return flags as Interfaces.FlagInput<FlagsOf<T>>
}

/** oclif's arguments for a table's. */
export function oclifArgs<T extends CommandDef['args']>(table: T): Interfaces.ArgInput<ArgsOf<T>> {
  const args: Interfaces.ArgInput = {}
  for (const [name, def] of Object.entries(table)) args[name] = Args.string({ ...def })
  return args as Interfaces.ArgInput<ArgsOf<T>>
}

function oclifFlag({ type, default: value, exclusive, options, multiple, ...props }: FlagDef) {
  // Only what the entry declares: oclif's manifest and help tell a given `false` from none.
  const common = { ...props, ...(exclusive && { exclusive: [...exclusive] }) }
  if (type === 'boolean') return Flags.boolean({ ...common, ...(value !== undefined && { default: value === true }) })
  if (type === 'integer') return Flags.integer({ ...common, ...(typeof value === 'number' && { default: value }) })
  if (options) return Flags.option({ ...common, options, ...(typeof value === 'string' && { default: value }) })()
  if (multiple) return Flags.string({ ...common, multiple, ...(Array.isArray(value) && { default: [...value] }) })
  return Flags.string({ ...common, ...(typeof value === 'string' && { default: value }) })
}
