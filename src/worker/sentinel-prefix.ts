/**
 * Where the longest tail of `text` that begins `mark` starts (text.length when none does): what a
 * reader of a pipe must hold back, because the sentinel (protocol.ts) may arrive split across reads.
 * The sentinel starts with a NUL, so only a NUL can begin it; a task's own NULs are held back only
 * while what follows them still reads as the sentinel's start.
 */
export function sentinelPrefixAt(text: string, mark: string): number {
  for (let at = Math.max(0, text.length - mark.length + 1); at < text.length; at++) {
    if (text.charCodeAt(at) === 0 && mark.startsWith(text.slice(at))) return at
  }
  return text.length
}
