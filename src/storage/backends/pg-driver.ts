import { createRequire, Module } from 'node:module'
import type PgModule from 'pg'

/**
 * The pg driver, loaded without what costs every process that opens PostgreSQL and serves none of them:
 *
 * - its Cloudflare probe. As it loads, pg asks whether it runs in a Cloudflare Worker: by
 *   `navigator.userAgent` where there is one (Node ≥ 21), otherwise by building a `Response` — which on
 *   Node 20 loads Node's whole fetch stack (undici, http, http2, tls, zlib, worker_threads): ~9 MB of RSS
 *   and tens of ms, an idle worker included. A `navigator` that exists only while pg loads answers the
 *   probe as Node 21 would; the load is a synchronous require, so no other code runs while it exists.
 * - node:crypto, until a password must be hashed (deferCrypto).
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
 * pg's lib/crypto/utils.js loads node:crypto as pg loads — ~4% of `node -e 0` on every one-shot
 * command — for password authentication (MD5, SCRAM) alone, which a server that trusts its clients
 * never asks for. pg reads its functions at each call (`crypto.md5(…)`), so require's cache is given a
 * stand-in whose first read loads the module itself. A pg laid out otherwise loads as it is.
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
