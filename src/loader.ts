// How sq loads user code (task modules, hooks, sq.config.*), and the one rule that finds an export in what
// `import()` returns, whatever the project's module system.
import { pathToFileURL } from 'node:url'
import { UsageError } from './errors.js'
import { parseReference, resolveModule } from './queue/reference.js'
import type { TaskArgs } from './types.js'

/** What `import()` returns. */
export type ModuleNamespace = Record<string, unknown>

/**
 * Where tsx compiles TypeScript: `process`, everything imported from then on (a task process: tsx's scoped mode
 * cannot resolve a dynamic `import()` in CommonJS-compiled .ts), or `isolated`, this import's graph only.
 */
export type TypeScriptScope = 'process' | 'isolated'

const TYPESCRIPT = /\.[mc]?ts$/

let processWide: Promise<void> | undefined

/** Imports a module file; TypeScript goes through tsx (no build step). */
export async function importFile(file: string, scope: TypeScriptScope): Promise<ModuleNamespace> {
  const url = pathToFileURL(file).href
  if (!TYPESCRIPT.test(file)) return import(url)
  if (scope === 'isolated') return (await import('tsx/esm/api')).tsImport(url, import.meta.url)
  processWide ??= Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]).then(([esm, cjs]) => {
    esm.register()
    cjs.register()
  })
  await processWide
  return import(url)
}

/** Imports the module of a task reference (or the hooks setting): a file under the root, or a package. */
export async function importReferenced(module: string, root: string, scope: TypeScriptScope): Promise<ModuleNamespace> {
  const where = resolveModule(module, root)
  if (where.kind === 'file') return importFile(where.file, scope)
  // An ESM-only package (no "require" export condition) has no entry require could find: import() it.
  if (where.kind === 'package' && where.entry) return importFile(where.entry, scope)
  return import(where.packageName)
}

/** The module's exports: a CommonJS module marked `__esModule` was compiled from ESM and holds the real ones. */
function exportsOf(ns: ModuleNamespace): ModuleNamespace {
  const cjs = ns.default
  return isObjectLike(cjs) && cjs.__esModule === true ? cjs : ns
}

/** An export by name, or undefined, for tasks, hooks and config: also module.exports' own properties Node missed. */
export function exportOf(ns: ModuleNamespace, name: string): { value: unknown } | undefined {
  const exports = exportsOf(ns)
  // Own properties only: what every object inherits (`constructor`, `toString`, …) is not an export.
  if (Object.hasOwn(exports, name)) return { value: exports[name] }
  const cjs = exports.default
  if (name !== 'default' && isObjectLike(cjs) && Object.hasOwn(cjs, name)) return { value: cjs[name] }
  return undefined
}

/** The function a task reference names, imported; its errors are what the task's `error` shows. */
export async function loadTaskFunction(
  reference: string,
  root: string,
  scope: TypeScriptScope,
): Promise<(args: TaskArgs) => unknown> {
  const ref = parseReference(reference)
  let ns: ModuleNamespace
  try {
    ns = await importReferenced(ref.module, root, scope)
  } catch (error) {
    // "Not found" says it all; a module that fails to import needs its stack (where a syntax error is).
    const detail =
      error instanceof UsageError
        ? error.message
        : error instanceof Error
          ? (error.stack ?? error.message)
          : String(error)
    throw new Error(`Cannot load task module ${ref.module}: ${detail}`, { cause: error })
  }
  const found = exportOf(ns, ref.exportName)
  if (!found) {
    const names = Object.keys(exportsOf(ns)).filter((name) => name !== '__esModule')
    throw new Error(
      `Task module ${ref.module} has no export "${ref.exportName}" (exports: ${names.join(', ') || 'none'})`,
    )
  }
  if (typeof found.value !== 'function')
    throw new Error(`Export "${ref.exportName}" of ${ref.module} is not a function (it is a ${typeof found.value})`)
  return found.value as (args: TaskArgs) => unknown
}

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
}
