/**
 * Text that both databases can store, whatever a task produced:
 * - PostgreSQL's text cannot hold NUL (`invalid byte sequence for encoding "UTF8": 0x00`), so a task
 *   that returned, yielded, logged or threw one could not be recorded at all;
 * - half of a surrogate pair (a string cut inside an emoji) is no character: UTF-8 cannot encode it,
 *   and PostgreSQL refuses its JSON escape in the rows of a batched statement (SqlSpelling.jsonRows).
 * Every text a run produces goes through this before it is stored, on both databases alike: each
 * becomes U+FFFD (the replacement character), and the rest of the text is kept.
 */
export function storableText(text: string): string
export function storableText(text: string | null): string | null
export function storableText(text: string | null): string | null {
  if (text === null) return null
  const whole = text.isWellFormed() ? text : text.toWellFormed()
  return whole.includes('\u0000') ? whole.replaceAll('\u0000', '\uFFFD') : whole
}
