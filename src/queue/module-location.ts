import fs from 'node:fs'
import { createRequire, isBuiltin } from 'node:module'
import path from 'node:path'
import { UsageError } from '../errors.js'

/** Extensions a module path is tried with, in this order (TypeScript first: it is the source). */
export const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'] as const

/**
 * Where a reference's module lives, as real paths, so that what is imported is what the policy judged: a
 * file, a package as the root's code resolves it (entry, or folder when only `import` loads it), a built-in.
 */
export type ModuleLocation =
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
export function isInside(file: string, realRoot: string): boolean {
  const rel = path.relative(realRoot, file)
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel)
}

/** Whether a real path under the root lies in one of its `node_modules` folders: a package's code. */
export function isInNodeModules(file: string, realRoot: string): boolean {
  return path.relative(realRoot, file).split(path.sep).includes('node_modules')
}
