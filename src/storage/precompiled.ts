import type { Compilable, CompiledQuery } from 'kysely'
import type { Backend } from './backend.js'

/**
 * Statements of the hot paths, built and compiled by Kysely once instead of at every call.
 *
 * Kysely builds and compiles a query anew on every call, which for a statement run per claim or per
 * task costs more than the database's own work. So such a statement is compiled once per backend and
 * shape, with a placeholder object in the place of each value that varies; each call binds its values
 * in the placeholders' places. A parameter that is no placeholder is a constant of the statement.
 *
 * The SQL text of a precompiled statement never changes, so a backend may also keep it prepared on the
 * server (PostgreSQL: a named statement per connection), which skips parsing and planning: for the
 * claim, that is most of its time. Its text ends with PRECOMPILED, which says so to the backend.
 */
export type Values<S> = Record<string, (source: S) => unknown>

/** What a statement's values are read from: one getter per placeholder. */
export type Placeholders<V> = { [K in keyof V]: never }

interface Bound<S> {
  compiled: CompiledQuery
  values: ((source: S) => unknown)[]
}

/**
 * The mark that ends every precompiled statement's text: these are few and fixed, so each may stay
 * prepared for the life of a connection. (A mark in the text, not a registry: the text is all that
 * reaches a driver.)
 */
export const PRECOMPILED = ' /* sq:precompiled */'
const byBackend = new WeakMap<Backend, Map<string, Bound<never>>>()

/**
 * The statement `shape` of this backend, built by `build` the first time (with `values`' placeholders
 * as its values), bound to `source`'s values. `shape` names everything that changes the statement's
 * text: a different text needs a different shape. `values` and `build` are kept from the first call, so
 * a value must be read from `source`, never from a variable of the caller.
 */
export function precompiled<S, V extends Values<S>>(
  backend: Backend,
  shape: string,
  values: V,
  build: (placeholders: Placeholders<V>) => Compilable,
  source: S,
): CompiledQuery {
  let shapes = byBackend.get(backend)
  if (!shapes) byBackend.set(backend, (shapes = new Map()))
  let bound = shapes.get(shape) as Bound<S> | undefined
  if (!bound) {
    const holders = new Map(Object.entries(values).map(([name, value]) => [{ placeholder: name }, value]))
    const placeholders = Object.fromEntries([...holders.keys()].map((h) => [h.placeholder, h])) as Placeholders<V>
    const compiled = build(placeholders).compile()
    bound = {
      compiled: { ...compiled, sql: compiled.sql + PRECOMPILED },
      values: compiled.parameters.map((p) => holders.get(p as { placeholder: string }) ?? (() => p)),
    }
    shapes.set(shape, bound as Bound<never>)
  }
  // No plugin transforms sq's queries, so the compiled node is only carried along, never read again.
  return { ...bound.compiled, parameters: bound.values.map((value) => value(source)) }
}
