import type http from 'node:http'
import type { Queue } from '../queue/queue.js'
import { endedStreamTail, readStreamChunks, taskHead } from '../storage/monitor-repository.js'
import { getTask } from '../storage/task-repository.js'
import { isTerminal } from '../types.js'
import { SAFE_HEADERS, sendError } from './respond.js'

/**
 * How often a stream looks for new output: a primary-key lookup and one index range, cheap enough to
 * do often. The worker flushes every 200 ms, so new text shows within ~0.3 s.
 */
export const SSE_POLL_MS = 100
/** The most characters sent when a stream starts on a task that has ended (its tail). */
const TAIL_CHARS = 256 * 1024
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000

/**
 * GET /api/tasks/:id/events — a task's output as Server-Sent Events, as `sq show --follow` follows it:
 * `output` events carry new text ({ text }), `reset` starts a new run (a retry) or a clipped tail
 * ({ attempt, clipped }), `state` reports status changes, and `end` ({ status }) comes once the task
 * has ended, after which the server closes the stream (the client must not reconnect).
 *
 * Each poll reads the task's head (one primary-key lookup) and only the chunks after the last one sent;
 * when the run ends its chunks are folded into the row, and what was not sent yet is taken from there.
 */
export async function streamOutput(
  queue: Queue,
  ref: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const backend = queue.backend
  let id: string
  try {
    id = await queue.resolveId(ref)
    if (!(await taskHead(backend, id))) return void (await queue.get(id))
  } catch (error) {
    return sendError(res, error)
  }
  res.writeHead(200, { ...SAFE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' })
  res.write('retry: 1000\n\n')
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
  let closed = false
  req.on('close', () => (closed = true))
  /** The run being sent (its claim): a new one starts the output over. */
  let claim = -1
  let lastSeq = 0
  let sent = 0
  /** True while everything this run wrote has been sent from its start (no clipped first read). */
  let whole = true
  let status = ''
  let firstRead = false
  let lastWrite = Date.now()
  try {
    while (!closed) {
      const head = await taskHead(backend, id)
      if (!head) {
        send('end', { status: 'deleted' })
        break
      }
      if (head.status !== status) {
        status = head.status
        send('state', { status, attempt: head.attempts })
      }
      if (isTerminal(head.status)) {
        if (head.claims === claim && whole) {
          const rest = ((await getTask(backend, id))?.output ?? '').slice(sent)
          if (rest) send('output', { text: rest })
        } else {
          const tail = await endedStreamTail(backend, { id, stream: 'output', maxChars: TAIL_CHARS })
          send('reset', { attempt: head.attempts, clipped: tail.length > tail.text.length })
          if (tail.text) send('output', { text: tail.text })
        }
        send('end', { status: head.status })
        break
      }
      let more = false
      if (head.status === 'progress') {
        if (head.claims !== claim) {
          claim = head.claims
          lastSeq = 0
          sent = 0
          firstRead = true
          whole = true
        }
        const read = await readStreamChunks(backend, { id, claim, stream: 'output', afterSeq: lastSeq, maxChunks: 500 })
        // A read from seq 0 takes the LAST chunks, so its `more` means older text was left out.
        more = lastSeq !== 0 && read.more
        if (lastSeq === 0 && read.more) whole = false
        if (firstRead) {
          firstRead = false
          send('reset', { attempt: head.attempts, clipped: read.more })
        }
        lastSeq = read.lastSeq
        if (read.text) {
          send('output', { text: read.text })
          sent += read.text.length
          lastWrite = Date.now()
        }
      }
      if (Date.now() - lastWrite > KEEPALIVE_MS) {
        res.write(': keepalive\n\n')
        lastWrite = Date.now()
      }
      if (!more) await new Promise((resolve) => setTimeout(resolve, SSE_POLL_MS))
    }
  } catch (error) {
    send('error', { error: (error as Error).message })
  }
  res.end()
}
