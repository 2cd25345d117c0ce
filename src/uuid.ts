import fs from 'node:fs'
import { createRequire } from 'node:module'

/** Random bytes fetched per read: 128 ids' worth, as node:crypto's randomUUID caches. */
const POOL_BYTES = 16 * 128
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

let pool: Buffer | undefined
let offset = POOL_BYTES

/**
 * A random (version 4) UUID, as node:crypto's randomUUID makes one. Loading node:crypto costs a one-shot
 * `sq enqueue` about 2% of its whole run (it compiles some fifteen internal modules for one function),
 * so the bytes come from the kernel's /dev/urandom where there is one — the source node:crypto reads
 * through OpenSSL as well — and from node:crypto elsewhere.
 */
export function randomUuid(): string {
  if (offset === POOL_BYTES) {
    pool ??= Buffer.allocUnsafe(POOL_BYTES)
    fillRandom(pool)
    offset = 0
  }
  const b = pool!
  const o = offset
  offset += 16
  const h = (i: number) => HEX[b[o + i]!]!
  return (
    `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${HEX[(b[o + 6]! & 0x0f) | 0x40]}${h(7)}-` +
    `${HEX[(b[o + 8]! & 0x3f) | 0x80]}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`
  )
}

function fillRandom(buffer: Buffer): void {
  let fd: number | undefined
  try {
    fd = fs.openSync('/dev/urandom', 'r')
    let read = 0
    while (read < buffer.length) {
      const n = fs.readSync(fd, buffer, read, buffer.length - read, null)
      if (n <= 0) throw new Error('short read')
      read += n
    }
  } catch {
    createRequire(import.meta.url)('node:crypto').randomFillSync(buffer)
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}
