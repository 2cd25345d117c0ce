import { Activity } from '../activity.js'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Queue } from '../queue/queue.js'
import { ACTION_ROUTES, actionGuard } from './actions.js'
import { overview, taskDetail, taskList, throughputSeries, type ApiContext } from './api.js'
import { DASHBOARD_CSS, dashboardHtml, DASHBOARD_JS, taskView } from './dashboard-page.js'
import { hostCheck } from './host-check.js'
import { createMetrics } from './metrics.js'
import { sendJson, sendResult, sendText } from './respond.js'
import { streamOutput } from './sse.js'

export interface ServeOptions {
  /** The address bound; requests must name it (or, for loopback, any loopback name) as their Host. */
  host: string
  /** Enables the POST actions (cancel, requeue, pause); without it they answer 403. */
  allowActions?: boolean
  /** Origins behind a reverse proxy (`--public-url`): their Host and Origin are accepted too. */
  publicUrls?: string[]
}

type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, params: string[]) => Promise<void> | void

/**
 * `sq serve`: the dashboard (`/`), its API (`/api/...`), `/metrics` and the seed's `/task?task_id=`; reads
 * are GET, actions POST only. A request's Host must name this server (else 421; host-check.ts).
 */
export function createStatusServer(queue: Queue, o: ServeOptions): http.Server {
  const refuseHost = hostCheck(o.host, o.publicUrls ?? [])
  const guard = actionGuard(o.allowActions ?? false, o.publicUrls ?? [])
  const activity = new Activity(queue.backend, { heartbeatTimeout: queue.settings.heartbeatTimeout })
  const c: ApiContext = { queue, allowActions: guard.enabled, activity }
  const metrics = createMetrics(queue)
  const page = dashboardHtml(guard.enabled ? guard.token : null)

  const get: Array<[RegExp, Route]> = [
    [/^\/$/, (_req, res) => sendText(res, 200, 'text/html; charset=utf-8', page)],
    [/^\/assets\/dashboard\.js$/, (_req, res) => sendText(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_JS)],
    [/^\/assets\/dashboard\.css$/, (_req, res) => sendText(res, 200, 'text/css; charset=utf-8', DASHBOARD_CSS)],
    [/^\/favicon\.ico$/, (_req, res) => void res.writeHead(204).end()],
    [/^\/task$/, (_req, res, url) => taskView(queue, url, res)],
    [/^\/metrics$/, async (_req, res) => sendText(res, 200, metrics.contentType, await metrics.render())],
    [/^\/api\/overview$/, (_req, res) => sendResult(res, () => overview(c))],
    [/^\/api\/throughput$/, (_req, res, url) => sendResult(res, () => throughputSeries(c, url))],
    [/^\/api\/tasks$/, (_req, res, url) => sendResult(res, () => taskList(c, url))],
    [/^\/api\/tasks\/([^/]+)$/, (_req, res, _url, [id]) => sendResult(res, () => taskDetail(c, id!))],
    [/^\/api\/tasks\/([^/]+)\/events$/, (req, res, _url, [id]) => streamOutput(queue, id!, req, res)],
  ]
  const match = <T>(routes: Array<[RegExp, T]>, path: string): [T, string[]] | undefined => {
    for (const [pattern, route] of routes) {
      const m = pattern.exec(path)
      if (m) return [route, m.slice(1).map(decodeURIComponent)]
    }
    return undefined
  }

  const server = http.createServer(async (req, res) => {
    const refusal = refuseHost(req.headers.host, (server.address() as AddressInfo).port)
    // 421 Misdirected Request: this server is not the one that name stands for.
    if (refusal) return sendText(res, 421, 'text/plain; charset=utf-8', `${refusal}\n`)
    try {
      const url = new URL(req.url ?? '/', 'http://localhost')
      const reading = match(get, url.pathname)
      const acting = match(ACTION_ROUTES, url.pathname)
      if (req.method === 'GET' || req.method === 'HEAD') {
        if (reading) return await reading[0](req, res, url, reading[1])
        if (acting) return sendJson(res.setHeader('allow', 'POST'), 405, { error: 'actions are POST only' })
        return sendJson(res, 404, {
          error: 'not found: see / (dashboard), /metrics, /api/..., /task?task_id=ID[&type=json]',
        })
      }
      if (req.method === 'POST' && acting) {
        req.resume()
        const refusal = guard.refusal(req)
        if (refusal) return sendJson(res, 403, { error: refusal })
        await sendResult(res, () => acting[0](queue, acting[1], url))
        // The next overview re-reads the counts the action changed rather than showing them up to 5 s late.
        activity.forget()
        return
      }
      if (reading || acting)
        return sendJson(res.setHeader('allow', reading ? 'GET, HEAD' : 'POST'), 405, {
          error: `${req.method} is not allowed here`,
        })
      sendJson(res, 404, { error: 'not found' })
    } catch (error) {
      if (!res.headersSent) sendJson(res, 400, { error: (error as Error).message })
      else res.end()
    }
  })
  return server
}
