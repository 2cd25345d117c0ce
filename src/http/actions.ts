import { randomBytes, timingSafeEqual } from 'node:crypto'
import type http from 'node:http'
import type { Queue } from '../queue/queue.js'
import { sendError, sendJson } from './respond.js'

/**
 * The dashboard's actions: POST /api/tasks/:id/cancel, POST /api/tasks/:id/requeue, and (when the
 * hooks provide them) POST /api/queues/:queue/pause and /resume. Only with `sq serve --allow-actions`;
 * without it every action answers 403. They use the core's cancel and requeue, as `sq cancel` and
 * `sq requeue` do.
 *
 * CSRF: the page carries a random token made when the process starts; an action must send it back in
 * the `X-SQ-Token` header. Another site cannot read the page (same-origin policy; the Host check
 * stops DNS rebinding) and cannot set a custom header on a cross-site request without a CORS preflight
 * that this server never grants. Browsers' own signals are checked too: an `Origin` must name this
 * server, and `Sec-Fetch-Site`, when sent, must be same-origin.
 */

export const TOKEN_HEADER = 'x-sq-token'

export class ActionGuard {
  /** Per process: a page served by an earlier `sq serve` cannot act on this one. */
  readonly token = randomBytes(24).toString('base64url')

  /** `publicOrigins`: the origins of `--public-url`, whose pages may act too (a TLS proxy's https://). */
  constructor(
    readonly enabled: boolean,
    private readonly publicOrigins: string[] = [],
  ) {}

  /** Null when the request may act; otherwise why not (answered with 403). */
  refusal(req: http.IncomingMessage): string | null {
    if (!this.enabled) return 'actions are disabled: start sq serve with --allow-actions'
    const given = Buffer.from(String(req.headers[TOKEN_HEADER] ?? ''))
    const expected = Buffer.from(this.token)
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return 'missing or wrong X-SQ-Token (reload the page)'
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host}` && !this.publicOrigins.includes(origin))
      return `cross-origin request from ${origin} refused`
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin') return `cross-site request (${site}) refused`
    return null
  }
}

export type Action =
  | { kind: 'task'; id: string; verb: 'cancel' | 'requeue' }
  | { kind: 'queue'; queue: string; verb: 'pause' | 'resume' }

export async function act(queue: Queue, action: Action, res: http.ServerResponse): Promise<void> {
  try {
    if (action.kind === 'task' && action.verb === 'cancel') {
      const [result] = await queue.cancel([action.id])
      const message = result!.cancelled
        ? `cancelled ${result!.id}`
        : `not cancelled: ${result!.id} is already ${result!.status}`
      return sendJson(res, 200, { ...result, message })
    }
    if (action.kind === 'task') {
      const [result] = await queue.requeueEach([action.id])
      const message = result!.requeued
        ? `requeued ${result!.id}`
        : `not requeued: ${result!.id} is ${result!.status}; only completed, failed or cancelled tasks go back to the queue`
      return sendJson(res, 200, { ...result, message })
    }
    const state = action.verb === 'pause' ? await queue.pause(action.queue) : await queue.resume(action.queue)
    sendJson(res, 200, { ...state, message: `${action.verb === 'pause' ? 'paused' : 'resumed'} queue ${state.queue}` })
  } catch (error) {
    sendError(res, error)
  }
}
