import fs from 'node:fs'
import { createRequire } from 'node:module'

/** Random bytes fetched per read: 128 ids' worth, as node:crypto's randomUUID caches. */
const POOL_BYTES = 16 * 128
/** The two ASCII codes of each byte's hex digits. */
const HEX = Buffer.from([...Array(256).keys()].map((i) => i.toString(16).padStart(2, '0')).join(''), 'latin1')
/** Where each of the 16 bytes' digits go in the 36 characters; the dashes stay. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

let pool: Buffer | undefined
let offset = POOL_BYTES
const text = Buffer.alloc(36, '-')

/**
 * A random (version 4) UUID. Loading node:crypto costs a one-shot `sq enqueue` ~2%, so the bytes come from
 * /dev/urandom. Digits are written as bytes into one string: a concatenated id was ~20 strings of garbage.
 */
export function randomUuid(): string {
  if (offset === POOL_BYTES) {
    pool ??= Buffer.allocUnsafe(POOL_BYTES)
    fillRandom(pool)
    offset = 0
  }
  pool![offset + 6] = (pool![offset + 6]! & 0x0f) | 0x40 // version 4
  pool![offset + 8] = (pool![offset + 8]! & 0x3f) | 0x80 // variant 10
  for (let i = 0; i < 16; i++) {
    const byte = pool![offset + i]!
    text[AT[i]!] = HEX[byte * 2]!
    text[AT[i]! + 1] = HEX[byte * 2 + 1]!
  }
  offset += 16
  return text.toString('latin1')
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
