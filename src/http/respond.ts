import type http from 'node:http'
import { coerceError, NotFoundError, UsageError } from '../errors.js'

/**
 * Every answer's headers: no caching, framing or sniffing, and a CSP that runs only this server's script files,
 * so a value that reached the HTML unescaped could not run. Inline styles (the seed's task page) cannot run script.
 */
export const SAFE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

export function sendText(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { ...SAFE_HEADERS, 'content-type': contentType }).end(body)
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body))
}

/** An error thrown by the core, as JSON with the status code a client can act on. */
export function sendError(res: http.ServerResponse, error: unknown): void {
  const e = coerceError(error)
  const status = e instanceof NotFoundError ? 404 : e instanceof UsageError ? 400 : 500
  sendJson(res, status, { error: e.message })
}

/** What `read` resolves to as JSON, or the error it throws (sendError). */
export async function sendResult(res: http.ServerResponse, read: () => Promise<unknown>): Promise<void> {
  try {
    sendJson(res, 200, await read())
  } catch (error) {
    sendError(res, error)
  }
}
