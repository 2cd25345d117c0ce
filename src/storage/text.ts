/**
 * PostgreSQL's text cannot hold NUL (`invalid byte sequence for encoding "UTF8": 0x00`), so a task that
 * returned, yielded, logged or threw one could not be recorded at all. Every text a run produces goes
 * through this before it is stored, on both databases alike: NUL becomes U+FFFD (the replacement
 * character), and the rest of the text is kept.
 */
export function storableText(text: string): string
export function storableText(text: string | null): string | null
export function storableText(text: string | null): string | null {
  return text === null || !text.includes('\u0000') ? text : text.replaceAll('\u0000', '\uFFFD')
}
