/**
 * Text both databases can store, for every text a run produces: PostgreSQL's text cannot hold NUL, and
 * half a surrogate pair (a string cut inside an emoji) has no UTF-8, which PostgreSQL refuses in JSON
 * rows (SqlSpelling.jsonRows). Each becomes U+FFFD; the rest of the text is kept.
 */
export function storableText(text: string): string
export function storableText(text: string | null): string | null
export function storableText(text: string | null): string | null {
  if (text === null) return null
  const whole = text.isWellFormed() ? text : text.toWellFormed()
  return whole.includes('\u0000') ? whole.replaceAll('\u0000', '\uFFFD') : whole
}
