import fs from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import path from 'node:path'
import { TaskNotAllowedError, UsageError } from '../errors.js'

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

/**
 * An allowlist entry matches a reference exactly, or a module's own exports as `module#*`: what every
 * object inherits (`constructor`, `toString`, …) is no task, as loader.ts exportOf finds own exports only.
 */
export function isAllowed(ref: TaskReference, allowlist: readonly string[] | null): boolean {
  if (allowlist === null) return true
  const full = `${ref.module}#${ref.exportName}`
  return allowlist.some((entry) => {
    const e = entry.trim()
    if (e.endsWith('#*')) return e.slice(0, -2) === ref.module && !(ref.exportName in Object.prototype)
    return (e.includes('#') ? e : `${e}#default`) === full
  })
}

/** Extensions a module path is tried with, in this order (TypeScript first: it is the source). */
const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const

/** Where a module lives, as real paths, so that what is imported is what the policy judged. */
type ModuleLocation =
  | { kind: 'file'; file: string }
  | { kind: 'package'; packageName: string; entry: string | undefined; folder: string }
  | { kind: 'builtin'; packageName: string }

/** `./x`, `../x` and absolute paths are files; anything else may also be a package name. */
function looksLikePath(module: string): boolean {
  return module.startsWith('.') || path.isAbsolute(module)
}

/** Finds the module of a reference (stats files, imports nothing); throws when it does not exist. */
export function resolveModule(module: string, root: string): ModuleLocation {
  const base = path.resolve(root, module)
  const candidates = [base, ...MODULE_EXTENSIONS.map((ext) => base + ext)]
  const file = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile())
  if (file) return { kind: 'file', file: fs.realpathSync(file) }
  if (!looksLikePath(module)) {
    if (isBuiltin(module)) return { kind: 'builtin', packageName: module }
    const found = findPackage(module, root)
    if (found) return { kind: 'package', packageName: module, ...found }
  }
  throw new UsageError(
    `task module "${module}" not found under ${root} (tried ${MODULE_EXTENSIONS.join(', ')}${looksLikePath(module) ? '' : ' and packages'})`,
  )
}

/** A package as `require` from the root finds it (node_modules up the tree, NODE_PATH, global): entry and folder. */
function findPackage(specifier: string, root: string): { entry: string | undefined; folder: string } | undefined {
  const require = createRequire(path.join(root, 'noop.js'))
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!
  const folder = (require.resolve.paths(specifier) ?? [])
    .map((dir) => path.join(dir, name))
    .find((dir) => fs.existsSync(path.join(dir, 'package.json')))
  let entry: string | undefined
  try {
    entry = fs.realpathSync(require.resolve(specifier))
  } catch {
    // An ESM-only package (no "require" export condition): it exists if its folder does.
  }
  if (!folder && !entry) return undefined
  return { entry, folder: fs.realpathSync(folder ?? path.dirname(entry!)) }
}

/** Whether `file` (a real path) lies under `realRoot` (a real path). */
function isInside(file: string, realRoot: string): boolean {
  const rel = path.relative(realRoot, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

/** Whether the reference, as written, points outside the root: `..` or an absolute path. */
function leavesRootAsWritten(module: string): boolean {
  if (path.isAbsolute(module)) return true
  const normal = path.posix.normalize(module.replace(/\\/g, '/'))
  return normal === '..' || normal.startsWith('../')
}

/**
 * The policy on a reference, at enqueue and again in the worker (a row may not come from enqueueing); imports
 * nothing. An allowlist is the permission; without one only the project's own files run: the root is the boundary,
 * as written AND as real path (no symbolic link out), and no package (every install brings some that write
 * files or run commands). A built-in is never a task module.
 */
export function authorizeReference(ref: string, root: string, allowlist: readonly string[] | null): TaskReference {
  const parsed = parseReference(ref)
  const name = `${parsed.module}#${parsed.exportName}`
  const refuse = (why: string) => new TaskNotAllowedError(`task not allowed: ${why}`)
  if (!isAllowed(parsed, allowlist)) throw refuse(`${name} is not on the allowlist (allowedTasks / SQ_ALLOWED_TASKS)`)
  const confined = allowlist === null
  const permit = 'add it to allowedTasks to permit it'
  if (confined && leavesRootAsWritten(parsed.module)) throw refuse(`"${ref}" leaves the root ${root}; ${permit}`)
  const where = resolveModule(parsed.module, root)
  if (where.kind === 'builtin') throw refuse(`"${parsed.module}" is a Node.js built-in module, not a task module`)
  if (!confined) return parsed
  const realRoot = fs.realpathSync(root)
  const unlisted = `without an allowlist only files under the root run — add ${name} to allowedTasks to permit it`
  if (where.kind === 'package') {
    const at = where.entry ?? where.folder
    const whence = isInside(at, realRoot) ? '' : ` from outside the root (${at})`
    throw refuse(`"${ref}" is a package${whence}; ${unlisted}`)
  }
  if (!isInside(where.file, realRoot))
    throw refuse(`"${ref}" leaves the root ${root} through a symbolic link (to ${where.file}); ${permit}`)
  // A file in one of the root's node_modules folders is a package's code.
  if (path.relative(realRoot, where.file).split(path.sep).includes('node_modules')) {
    throw refuse(
      `"${ref}" is a file of an installed package (${where.file}); without an allowlist only the project's own files run — add ${name} to allowedTasks to permit it`,
    )
  }
  return parsed
}
