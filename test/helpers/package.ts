import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** This repository: the sq-queue package, built into dist/ by `npm test`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Makes `import … from 'sq-queue'` work in `dir` as in an app that depends on it: node_modules/sq-queue
 * is this repository, so the import resolves through package.json's "exports" to what the package ships
 * (the bundle), not to build output it leaves out.
 */
export function linkPackage(dir: string): void {
  fs.mkdirSync(path.join(dir, 'node_modules'), { recursive: true })
  fs.symlinkSync(PACKAGE_ROOT, path.join(dir, 'node_modules/sq-queue'), 'dir')
}
