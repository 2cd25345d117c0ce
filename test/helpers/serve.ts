import http from 'node:http'
import type { SqProcess, WorkerSuite } from './worker.js'

/** `sq serve` for the dashboard tests: a real server process on a free port, stopped by the test. */

export interface Served {
  proc: SqProcess
  /** `http://127.0.0.1:PORT` */
  base: string
  port: number
  stop(): Promise<void>
}

export async function startServe(
  s: WorkerSuite,
  flags: string[] = [],
  env: Record<string, string> = {},
): Promise<Served> {
  const proc = s.sq(['serve', '--port', '0', '--db', s.db.url, ...flags], env)
  await proc.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\//)
  const base = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(proc.stdout)![1]!
  return {
    proc,
    base,
    port: Number(new URL(base).port),
    async stop() {
      proc.signal('SIGTERM')
      await proc.ended()
    },
  }
}

/** A request with exactly these headers (fetch sets Host, Origin and Sec-Fetch-* its own way). */
export function rawRequest(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string> },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path,
        setHost: false,
        headers: { host: `127.0.0.1:${port}`, ...o.headers },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/** The CSRF token a dashboard page carries (with --allow-actions), or null. */
export async function pageToken(base: string): Promise<string | null> {
  const html = await (await fetch(`${base}/`)).text()
  return /<meta name="sq-token" content="([^"]+)">/.exec(html)?.[1] ?? null
}

/** Parses the Prometheus text format into `name{labels}` → value (labels sorted as rendered). */
export function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`)
    values.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]))
  }
  return values
}
