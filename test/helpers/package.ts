import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

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

/**
 * An app's strictest tsc over `files` of `dir`: `strict`, NodeNext, and the declarations of the libraries
 * it uses checked (`skipLibCheck: false`). Returns what tsc printed: nothing when the files compile.
 */
export async function strictTsc(dir: string, files: string[], options: Record<string, unknown> = {}): Promise<string> {
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        noEmit: true,
        skipLibCheck: false,
        // An app on Node has @types/node; this one borrows sq's.
        types: ['node'],
        typeRoots: [path.join(PACKAGE_ROOT, 'node_modules/@types')],
        ...options,
      },
      files,
    }),
  )
  const tsc = path.join(PACKAGE_ROOT, 'node_modules/typescript/bin/tsc')
  return promisify(execFile)(process.execPath, [tsc, '-p', dir], { cwd: dir }).then(
    () => '',
    (e: { stdout: string }) => e.stdout,
  )
}
