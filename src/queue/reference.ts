import fs from 'node:fs'
import path from 'node:path'
import { createRequire, isBuiltin } from 'node:module'
import { TaskNotAllowedError, UsageError } from '../errors.js'

/** Extensions a module path is tried with, in this order (TypeScript first: it is the source). */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const

export interface TaskReference {
  /** The module part as written: a path relative to the root, or a package name. */
  module: string
  /** The export to call; `default` when the reference has no `#`. */
  exportName: string
}

const EXPORT_NAME = /^[A-Za-z_$][\w$]*$/

/** Parses `<module>#<export>`; throws UsageError on a malformed reference. */
export function parseReference(ref: string): TaskReference {
  const text = ref.trim()
  const hash = text.indexOf('#')
  const module = hash === -1 ? text : text.slice(0, hash)
  const exportName = hash === -1 ? 'default' : text.slice(hash + 1)
  if (module === '') throw new UsageError(`malformed task reference "${ref}": the module part before # is empty`)
  if (/\s/.test(module)) throw new UsageError(`malformed task reference "${ref}": the module path contains whitespace`)
  if (!EXPORT_NAME.test(exportName)) {
    throw new UsageError(`malformed task reference "${ref}": "${exportName}" after # is not an export name`)
  }
  return { module, exportName }
}

/** The reference in its full form, `<module>#<export>`, as the allowlist compares it. */
export function canonicalReference(ref: TaskReference): string {
  return `${ref.module}#${ref.exportName}`
}

/** An allowlist entry matches a reference exactly, or every export of a module as `module#*`. */
export function isAllowed(ref: TaskReference, allowlist: readonly string[] | null): boolean {
  if (allowlist === null) return true
  const full = canonicalReference(ref)
  return allowlist.some((entry) => {
    const e = entry.trim()
    if (e.endsWith('#*')) return e.slice(0, -2) === ref.module
    return (e.includes('#') ? e : `${e}#default`) === full
  })
}

/** Whether the reference, as written, points outside the root: `..` or an absolute path. */
function leavesRootAsWritten(module: string): boolean {
  if (path.isAbsolute(module)) return true
  const normal = path.posix.normalize(module.replace(/\\/g, '/'))
  return normal === '..' || normal.startsWith('../')
}

/** Whether `file` (a real path) lies under `realRoot` (a real path). */
function isInside(file: string, realRoot: string): boolean {
  const rel = path.relative(realRoot, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

/** `./x`, `../x` and absolute paths are files; anything else may also be a package name. */
function looksLikePath(module: string): boolean {
  return module.startsWith('.') || path.isAbsolute(module)
}

/**
 * Where the module of a reference lives: a file under the root, or a package resolved from the root.
 * A file comes back as its real path (symbolic links followed), so what is imported is what the policy
 * judged. Throws when neither exists.
 */
export function resolveModule(ref: TaskReference, root: string): { file: string } | { packageName: string } {
  const base = path.resolve(root, ref.module)
  const candidates = [base, ...MODULE_EXTENSIONS.map((ext) => base + ext)]
  const file = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile())
  if (file) return { file: fs.realpathSync(file) }
  if (!looksLikePath(ref.module) && packageExists(ref.module, root)) return { packageName: ref.module }
  throw new UsageError(
    `task module "${ref.module}" not found under ${root} (tried ${MODULE_EXTENSIONS.join(', ')}${looksLikePath(ref.module) ? '' : ' and packages'})`,
  )
}

function packageExists(specifier: string, root: string): boolean {
  const require = createRequire(path.join(root, 'noop.js'))
  try {
    require.resolve(specifier)
    return true
  } catch {
    // An ESM-only package without a "require" export still exists if its folder does.
    const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]
    return (require.resolve.paths(specifier) ?? []).some((dir) => fs.existsSync(path.join(dir, name!, 'package.json')))
  }
}

/**
 * The policy on a reference: the one check that `sq enqueue` (and `createTask`) makes, and the worker
 * makes again before anything is imported, as the row may not have come from enqueueing. A reference
 * must be well-formed, on the allowlist (when there is one), and its module must exist. Without an
 * allowlist the root is the boundary, judged on the path as written AND on the real path of the module
 * file, so a symbolic link inside the root cannot lead outside it; with one, being on it is the
 * permission. A Node.js built-in is never a task module (it cannot take one args object), allowlisted
 * or not. Resolving stats files but imports nothing.
 */
export function authorizeReference(ref: string, root: string, allowlist: readonly string[] | null): TaskReference {
  const parsed = parseReference(ref)
  if (!isAllowed(parsed, allowlist)) {
    throw new TaskNotAllowedError(
      `task not allowed: ${canonicalReference(parsed)} is not on the allowlist (allowedTasks / SQ_ALLOWED_TASKS)`,
    )
  }
  const confined = allowlist === null
  if (confined && leavesRootAsWritten(parsed.module)) {
    throw new TaskNotAllowedError(
      `task not allowed: "${ref}" leaves the root ${root}; add it to allowedTasks to permit it`,
    )
  }
  const where = resolveModule(parsed, root)
  if ('packageName' in where && isBuiltin(where.packageName)) {
    throw new TaskNotAllowedError(
      `task not allowed: "${parsed.module}" is a Node.js built-in module, not a task module`,
    )
  }
  if (confined && 'file' in where && !isInside(where.file, fs.realpathSync(root))) {
    throw new TaskNotAllowedError(
      `task not allowed: "${ref}" leaves the root ${root} through a symbolic link (to ${where.file}); add it to allowedTasks to permit it`,
    )
  }
  return parsed
}
