import type http from 'node:http'
import type { Queue } from '../queue/queue.js'
import { followStep, type FollowCursor } from '../follow.js'
import { taskHead } from '../storage/follow-repository.js'
import { SAFE_HEADERS, sendError } from './respond.js'

/** How often a stream polls (a key lookup and an index range); the worker flushes every 200 ms. */
const SSE_POLL_MS = 100
/** The most characters sent when a stream starts on a task that has ended (its tail). */
const TAIL_CHARS = 256 * 1024
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000

/**
 * GET /api/tasks/:id/events: a task's output as Server-Sent Events (StreamEvents), each poll one step of
 * follow.ts; after `end` the server closes the stream (the client must not reconnect).
 */
export async function streamOutput(
  queue: Queue,
  ref: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const d = queue.backend
  let id: string
  try {
    id = await queue.resolveId(ref)
    if (!(await taskHead(d, id))) return void (await queue.get(id))
  } catch (error) {
    return sendError(res, error)
  }
  res.writeHead(200, { ...SAFE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' })
  let lastWrite = Date.now()
  const write = (text: string) => {
    lastWrite = Date.now()
    res.write(text)
  }
  const send = (event: string, data: unknown) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  write('retry: 1000\n\n')
  let closed = false
  req.on('close', () => (closed = true))
  let cursor: FollowCursor | null = null
  let status = ''
  try {
    while (!closed) {
      const step = await followStep(d, id, cursor, { from: 'tail', tailChars: TAIL_CHARS })
      if (!step) {
        send('end', { status: 'deleted' })
        break
      }
      const { head } = step
      if (head.status !== status) {
        status = head.status
        send('state', { status, attempt: head.attempts })
      }
      if (step.restart) send('reset', { attempt: head.attempts, clipped: step.clipped })
      if (step.text) send('output', { text: step.text })
      if (step.ended) {
        send('end', { status })
        break
      }
      cursor = step.cursor
      if (Date.now() - lastWrite > KEEPALIVE_MS) write(': keepalive\n\n')
      if (!step.more) await new Promise((resolve) => setTimeout(resolve, SSE_POLL_MS))
    }
  } catch (error) {
    send('error', { error: (error as Error).message })
  }
  res.end()
}
