import type { Readable } from 'node:stream'

/**
 * Reads a stream to its end, keeping at most `maxBytes + 1` bytes: enough to tell that it is over the
 * limit without holding an endless input (`/dev/zero`, a runaway pipe) in memory. A stream, not
 * `readFileSync(0)`: a non-blocking stdin pipe whose writer has not written yet makes that throw EAGAIN,
 * where a stream waits for the data.
 */
export async function readLimited(stream: Readable, maxBytes: number): Promise<{ text: string; over: boolean }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    chunks.push(bytes)
    size += bytes.length
    // Leaving the loop destroys the stream: nothing more is read.
    if (size > maxBytes) return { text: '', over: true }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), over: false }
}
