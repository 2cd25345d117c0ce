import fs from 'node:fs'
import path from 'node:path'
import { TaskNotAllowedError, UsageError } from '../errors.js'
import { isInNodeModules, isInside, resolveModule } from './module-location.js'

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

/** Whether the reference, as written, points outside the root: `..` or an absolute path. */
function leavesRootAsWritten(module: string): boolean {
  if (path.isAbsolute(module)) return true
  const normal = path.posix.normalize(module.replace(/\\/g, '/'))
  return normal === '..' || normal.startsWith('../')
}

/**
 * The policy on a reference, checked at enqueue and again by the worker before it imports anything (a
 * row may not come from enqueueing): well-formed, on the allowlist if there is one (then that is the
 * permission), its module existing. Without one, only the project's own files run: the root is the
 * boundary, judged on the path as written AND the module's real path (a symbolic link cannot lead out),
 * and a package (anything in a node_modules folder) runs only when allowlisted: every install brings
 * packages whose exports write files or run commands. A built-in is never a task module. Imports nothing.
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
  if (isInNodeModules(where.file, realRoot)) {
    throw refuse(
      `"${ref}" is a file of an installed package (${where.file}); without an allowlist only the project's own files run — add ${name} to allowedTasks to permit it`,
    )
  }
  return parsed
}
