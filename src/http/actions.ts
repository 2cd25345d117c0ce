import { randomBytes, timingSafeEqual } from 'node:crypto'
import type http from 'node:http'
import { parseDuration } from '../config.js'
import { UsageError } from '../errors.js'
import type { Queue } from '../queue/queue.js'
import { isStatus, isTerminal, type Status } from '../types.js'
import type { ActionAnswer, BulkAnswer } from './api-types.js'
import { sendError, sendJson } from './respond.js'

/**
 * The dashboard's actions: POST /api/tasks/:id/cancel and /requeue, POST /api/queues/:queue/pause and
 * /resume, and the bulk ones: POST /api/queues/:queue/retry-failed and POST /api/purge?older_than=D.
 * Only with `sq serve --allow-actions`; without it every action answers 403. They use the core's cancel,
 * requeue, pause and purge, as `sq cancel`, `sq requeue --status`, `sq pause` and `sq purge` do.
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
  | { kind: 'retry-failed'; queue: string; dryRun: boolean }
  | { kind: 'purge'; statuses: Status[]; olderThan: string; dryRun: boolean }

/** The POST routes of `sq serve`; `dry_run=1` on a bulk action counts what it would touch, for the confirmation. */
export const ACTION_ROUTES: Array<[RegExp, (params: string[], url: URL) => Action]> = [
  [
    /^\/api\/tasks\/([^/]+)\/(cancel|requeue)$/,
    ([id, verb]) => ({ kind: 'task', id: id!, verb: verb as 'cancel' | 'requeue' }),
  ],
  [
    /^\/api\/queues\/([^/]+)\/(pause|resume)$/,
    ([q, verb]) => ({ kind: 'queue', queue: q!, verb: verb as 'pause' | 'resume' }),
  ],
  [/^\/api\/queues\/([^/]+)\/retry-failed$/, ([q], url) => ({ kind: 'retry-failed', queue: q!, dryRun: dryRun(url) })],
  [
    /^\/api\/purge$/,
    (_, url) => {
      const statuses = (url.searchParams.get('status') || 'completed').split(',')
      const bad = statuses.find((s) => !isStatus(s) || !isTerminal(s))
      if (bad) throw new UsageError(`status must be completed, failed or cancelled, got "${bad}"`)
      const olderThan = url.searchParams.get('older_than') ?? ''
      parseDuration(olderThan, 'older_than')
      return { kind: 'purge', statuses: statuses as Status[], olderThan, dryRun: dryRun(url) }
    },
  ],
]

const dryRun = (url: URL) => url.searchParams.get('dry_run') === '1'
const tasks = (n: number, what: string) => `${n} ${what} task${n === 1 ? '' : 's'}`

export async function act(queue: Queue, action: Action, res: http.ServerResponse): Promise<void> {
  try {
    sendJson(res, 200, await answer(queue, action))
  } catch (error) {
    sendError(res, error)
  }
}

async function answer(queue: Queue, action: Action): Promise<ActionAnswer | BulkAnswer> {
  if (action.kind === 'retry-failed') {
    const { queue: name, dryRun } = action
    const count = (await queue.requeueByStatus(['failed'], { queue: name, dryRun })).length
    const message = `${dryRun ? '' : 'requeued '}${tasks(count, 'failed')} in queue ${name}`
    return { count, dry_run: dryRun, message }
  }
  if (action.kind === 'purge') {
    const { statuses, olderThan, dryRun } = action
    const count = await queue.purge({ statuses, olderThanMs: parseDuration(olderThan, 'older_than'), dryRun })
    const message = `${dryRun ? '' : 'purged '}${tasks(count, statuses.join(' or '))} older than ${olderThan}`
    return { count, dry_run: dryRun, message }
  }
  if (action.kind === 'task' && action.verb === 'cancel') {
    const [result] = await queue.cancel([action.id])
    const message = result!.cancelled
      ? `cancelled ${result!.id}`
      : `not cancelled: ${result!.id} is already ${result!.status}`
    return { ...result!, message }
  }
  if (action.kind === 'task') {
    const [result] = await queue.requeueEach([action.id])
    const message = result!.requeued
      ? `requeued ${result!.id}`
      : `not requeued: ${result!.id} is ${result!.status}; only completed, failed or cancelled tasks go back to the queue`
    return { ...result!, message }
  }
  const state = action.verb === 'pause' ? await queue.pause(action.queue) : await queue.resume(action.queue)
  return { ...state, message: `${action.verb === 'pause' ? 'paused' : 'resumed'} queue ${state.queue}` }
}
