import { randomBytes, timingSafeEqual } from 'node:crypto'
import type http from 'node:http'
import { parseDuration } from '../config.js'
import { UsageError } from '../errors.js'
import type { Queue } from '../queue/queue.js'
import { isStatus, isTerminal, type Status } from '../types.js'
import type { ActionAnswer, BulkAnswer } from './api-types.js'

/**
 * The dashboard's actions, only with `sq serve --allow-actions` (else 403). CSRF: an action sends back the
 * page's per-process random token in `X-SQ-Token`, which another site can neither read (same-origin policy,
 * Host check) nor send without a CORS preflight, never granted. An `Origin` must name this server or a
 * `--public-url`, and `Sec-Fetch-Site`, when sent, be same-origin.
 */
export function actionGuard(enabled: boolean, publicOrigins: string[]) {
  const token = randomBytes(24).toString('base64url')
  /** Null when the request may act; otherwise why not (answered with 403). */
  const refusal = (req: http.IncomingMessage): string | null => {
    if (!enabled) return 'actions are disabled: start sq serve with --allow-actions'
    const given = Buffer.from(String(req.headers['x-sq-token'] ?? ''))
    const expected = Buffer.from(token)
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return 'missing or wrong X-SQ-Token (reload the page)'
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://${req.headers.host}` && !publicOrigins.includes(origin))
      return `cross-origin request from ${origin} refused`
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin') return `cross-site request (${site}) refused`
    return null
  }
  return { enabled, token, refusal }
}

const dryRun = (url: URL) => url.searchParams.get('dry_run') === '1'
const tasks = (n: number, what: string) => `${n} ${what} task${n === 1 ? '' : 's'}`

/** The POST routes; `dry_run=1` on a bulk action counts what it would touch, for the confirmation. */
export const ACTION_ROUTES: Array<
  [RegExp, (queue: Queue, params: string[], url: URL) => Promise<ActionAnswer | BulkAnswer>]
> = [
  [
    /^\/api\/tasks\/([^/]+)\/cancel$/,
    async (queue, [id]) => {
      const [r] = await queue.cancel([id!])
      return { ...r!, message: r!.cancelled ? `cancelled ${r!.id}` : `not cancelled: ${r!.id} is already ${r!.status}` }
    },
  ],
  [
    /^\/api\/tasks\/([^/]+)\/requeue$/,
    async (queue, [id]) => {
      const [r] = await queue.requeueEach([id!])
      const message = r!.requeued
        ? `requeued ${r!.id}`
        : `not requeued: ${r!.id} is ${r!.status}; only completed, failed or cancelled tasks go back to the queue`
      return { ...r!, message }
    },
  ],
  [
    /^\/api\/queues\/([^/]+)\/(pause|resume)$/,
    async (queue, [name, verb]) => {
      const state = verb === 'pause' ? await queue.pause(name!) : await queue.resume(name!)
      return { ...state, message: `${verb === 'pause' ? 'paused' : 'resumed'} queue ${state.queue}` }
    },
  ],
  [
    /^\/api\/queues\/([^/]+)\/retry-failed$/,
    async (queue, [name], url) => {
      const dry_run = dryRun(url)
      const count = (await queue.requeueByStatus(['failed'], { queue: name!, dryRun: dry_run })).length
      return { count, dry_run, message: `${dry_run ? '' : 'requeued '}${tasks(count, 'failed')} in queue ${name}` }
    },
  ],
  [
    /^\/api\/purge$/,
    async (queue, _, url) => {
      const statuses = (url.searchParams.get('status') || 'completed').split(',')
      const bad = statuses.find((s) => !isStatus(s) || !isTerminal(s))
      if (bad) throw new UsageError(`status must be completed, failed or cancelled, got "${bad}"`)
      const olderThan = url.searchParams.get('older_than') ?? ''
      const olderThanMs = parseDuration(olderThan, 'older_than')
      const dry_run = dryRun(url)
      const count = await queue.purge({ statuses: statuses as Status[], olderThanMs, dryRun: dry_run })
      const message = `${dry_run ? '' : 'purged '}${tasks(count, statuses.join(' or '))} older than ${olderThan}`
      return { count, dry_run, message }
    },
  ],
]
