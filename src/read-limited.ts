import fs from 'node:fs'
import type { Readable } from 'node:stream'
import { UsageError } from './errors.js'

/**
 * A stream's text, or `over` past `maxBytes` without holding an endless input (`/dev/zero`). Not
 * `readFileSync(0)`: it throws EAGAIN on a non-blocking stdin pipe not yet written to.
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

/** A flag's `-` (stdin) or file, read by readLimited; its UsageErrors name `flag`, never quote the content. */
export async function readInput(
  file: string,
  o: { stdin: () => Readable; maxBytes: number; flag: string; over: string },
): Promise<string> {
  let read: { text: string; over: boolean }
  try {
    read = await readLimited(file === '-' ? o.stdin() : fs.createReadStream(file), o.maxBytes)
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new UsageError(`${o.flag}: cannot read ${file === '-' ? 'stdin' : file}: ${why}`)
  }
  if (read.over) throw new UsageError(o.over)
  return read.text
}
