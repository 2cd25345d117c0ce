import { createRequire, Module } from 'node:module'
import type PgModule from 'pg'

/**
 * The pg driver without what costs every process and serves none: node:crypto until a password must be
 * hashed (deferCrypto), and its Cloudflare probe, which without `navigator.userAgent` (Node < 21) loads
 * the whole fetch stack (~9 MB, tens of ms): a `navigator` exists during the (synchronous) require.
 */
function loadPg(): typeof PgModule {
  const require = createRequire(import.meta.url)
  deferCrypto(require)
  if ('navigator' in globalThis) return require('pg')
  const userAgent = `Node.js/${process.versions.node.split('.')[0]}`
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent }, configurable: true })
  try {
    return require('pg')
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator
  }
}

/**
 * pg's lib/crypto/utils.js loads node:crypto (~4% of `node -e 0`) for passwords alone; pg reads its
 * functions at each call, so require's cache gets a stand-in whose first read loads it.
 */
function deferCrypto(require: NodeJS.Require): void {
  let file: string
  try {
    file = require.resolve('pg/lib/crypto/utils.js')
  } catch {
    return
  }
  if (require.cache[file]) return
  let real: Record<string | symbol, unknown> | undefined
  const load = () => {
    if (!real) {
      delete require.cache[file]
      real = require(file) as Record<string | symbol, unknown>
    }
    return real
  }
  const standIn = new Module(file)
  standIn.filename = file
  standIn.loaded = true
  standIn.exports = new Proxy({}, { get: (_, key) => load()[key] })
  require.cache[file] = standIn
}

export const pg = loadPg()
