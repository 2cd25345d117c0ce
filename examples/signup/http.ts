import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Inserts a user and enqueues its welcome email in ONE transaction; throws to roll both back. */
export type Signup = (email: string, o: { failAfterEnqueue: boolean }) => Promise<{ user: number; task: string }>

/**
 * An Express-style app in plain node:http: POST /signup {"email": …} → 201 {user, task}. Any error is a
 * 500, and the transaction it happened in was rolled back: no user, no task. (`failAfterEnqueue` throws
 * after the enqueue, to show it.) Listens on PORT (default 3000), and says where.
 */
export function serve(signup: Signup): void {
  const server = http.createServer(async (req, res) => {
    let body = ''
    for await (const chunk of req) body += chunk
    try {
      const { email, failAfterEnqueue = false } = JSON.parse(body)
      const created = await signup(email, { failAfterEnqueue })
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(created))
    } catch (error) {
      res.writeHead(500).end(String(error))
    }
  })
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () =>
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`),
  )
}
