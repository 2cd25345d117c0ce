// Bundles the CLI after tsc: `sq` loads one file and a few shared chunks instead of ~400 modules
// (Kysely alone is 260 files), which takes a one-shot command like `sq enqueue` from ~0.45 s to ~0.27 s.
// The library is an entry of the same build (package.json main: dist/bundle/index.js), so the CLI and
// the library share one copy of Kysely and of sq's own code (no library is both bundled and a
// dependency). oclif finds the commands through `COMMANDS` in dist/bundle/cli.js (package.json:
// oclif.commands, strategy "explicit"); bin/run.js tries dist/bundle/fast.js first (commands/fast/).
// The package ships dist/bundle alone: with the library's CommonJS build and its declarations, below.
import fs from 'node:fs'
import dts from 'dts-bundle-generator'
import { build } from 'esbuild'

// Bundled CommonJS (cli-table3) calls require(); ESM output has none unless given one.
const BANNER =
  "import { createRequire as __sqRequire } from 'node:module'; const require = __sqRequire(import.meta.url);"

// The drivers (optional peer dependencies: the app installs the one it uses), the TypeScript loader
// for task modules, and what loads only for one command.
const EXTERNAL = ['@oclif/core', 'better-sqlite3', 'pg', 'tsx', 'ink', 'react']

// Chunks are named by hash: stale ones of an earlier build would ship too.
fs.rmSync('dist/bundle', { recursive: true, force: true })

await build({
  entryPoints: {
    cli: 'dist/commands/index.js',
    fast: 'dist/commands/fast/main.js',
    child: 'dist/src/worker/child.js',
    index: 'dist/src/index.js',
    // oclif loads its command_not_found hook by path (package.json oclif.hooks).
    'not-found': 'dist/commands/hooks/not-found.js',
  },
  outdir: 'dist/bundle',
  bundle: true,
  // Dynamic imports (pg, better-sqlite3's dialect, Ink for `sq top`) become chunks loaded on demand.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Same directory as the entries, so src/worker/task-process.ts finds the child entry beside any chunk.
  chunkNames: '[name]-[hash]',
  external: EXTERNAL,
  banner: { js: BANNER },
  // No source maps: they would point at dist/commands and dist/src, which the package does not ship.
  sourcemap: false,
  // Not minified: no start-up gain could be measured, and the dashboard's browser script is served as a
  // function's own source (src/http/dashboard-page.ts), which keepNames would fill with calls to a helper
  // the browser does not have.
  logLevel: 'warning',
})

// Only the files that call require() keep the banner: it costs every module that loads a
// createRequire and its module object, ~0.5% of `node -e 0` across the two dozen a one-shot command
// loads. (A mention in a comment or string keeps it too: harmless.)
for (const name of fs.readdirSync('dist/bundle')) {
  const file = `dist/bundle/${name}`
  const text = fs.readFileSync(file, 'utf8')
  const body = text.startsWith(BANNER) ? text.slice(BANNER.length).replace(/^\n/, '') : undefined
  if (body !== undefined && !/(?<![\w$.])require(?![\w$])/.test(body)) fs.writeFileSync(file, body)
}

// `require('sq-queue')` from a CommonJS app: Node before 20.19 cannot require an ES module. One file,
// as CommonJS output cannot be split; import.meta.url, which it does not have, is its own file's URL.
await build({
  entryPoints: ['dist/src/index.js'],
  outfile: 'dist/bundle/index.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  define: { 'import.meta.url': '__sqModuleUrl' },
  banner: { js: "const __sqModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
})

// The declarations in one file that imports nothing: an app has neither Kysely nor croner (they are
// bundled, not dependencies), and its tsc checks what a .d.ts imports unless told to skip it. The one
// Kysely type the task record's definition names is a three-line alias, inlined; anything else of a
// bundled library reaching the public API stops the build here.
const [declarations] = dts.generateDtsBundle(
  [
    {
      filePath: 'dist/src/index.d.ts',
      libraries: { inlinedLibraries: ['kysely'] },
      output: { noBanner: true, exportReferencedTypes: false },
    },
  ],
  { preferredConfigPath: 'tsconfig.types.json' },
)
const imported = declarations.match(/^import .*|\bimport\(.*/m)
if (imported) throw new Error(`the public types import a bundled library, which an app does not have: ${imported[0]}`)
// The same text for import and require: TypeScript reads a .d.cts as CommonJS, a .d.ts here as ESM.
for (const name of ['index.d.ts', 'index.d.cts']) fs.writeFileSync(`dist/bundle/${name}`, declarations)
