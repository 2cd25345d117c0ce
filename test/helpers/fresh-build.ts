import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Loaded by mocha before any suite (.mocharc.json `require`). Suites import src/ directly, but every
 * test that spawns `sq` runs bin/run.js, which runs dist/. After an edit without `npm run build`,
 * those tests would silently exercise the old build; so the run stops here, saying what to do.
 * `npm test` builds first, so it never trips this.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SOURCES = ['src', 'commands', 'ui']
/** Written last by `npm run build` (tsc, then the bundle, then the manifest): its age is the build's. */
const BUILT = path.join(ROOT, 'dist/bundle/cli.js')

function newestSource(dir: string): { file: string; mtimeMs: number } | undefined {
  let newest: { file: string; mtimeMs: number } | undefined
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.tsx?$/.test(entry.name)) continue
    const file = path.join(entry.parentPath, entry.name)
    const { mtimeMs } = fs.statSync(file)
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs }
  }
  return newest
}

const built = fs.existsSync(BUILT) ? fs.statSync(BUILT).mtimeMs : undefined
const stale = SOURCES.map((dir) => newestSource(path.join(ROOT, dir))).find(
  (source) => source !== undefined && (built === undefined || source.mtimeMs > built),
)
if (stale) {
  const why =
    built === undefined ? 'dist/ has not been built' : `${path.relative(ROOT, stale.file)} is newer than dist/`
  throw new Error(`${why}: the tests that spawn sq would run the old build; run \`npm run build\` first`)
}
