import { createRequire } from 'node:module'
import type PgModule from 'pg'

/**
 * The pg driver, loaded without its Cloudflare probe's cost. As it loads, pg asks whether it runs in a
 * Cloudflare Worker: by `navigator.userAgent` where there is one (Node ≥ 21), otherwise by building a
 * `Response` — which on Node 20 loads Node's whole fetch stack (undici, http, http2, tls, zlib,
 * worker_threads): ~9 MB of RSS and tens of ms in every process that opens PostgreSQL, an idle worker
 * included. A `navigator` that exists only while pg loads answers the probe as Node 21 would; the load is
 * a synchronous require, so no other code runs while it exists.
 */
function loadPg(): typeof PgModule {
  const require = createRequire(import.meta.url)
  if ('navigator' in globalThis) return require('pg')
  const userAgent = `Node.js/${process.versions.node.split('.')[0]}`
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent }, configurable: true })
  try {
    return require('pg')
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator
  }
}

export const pg = loadPg()
