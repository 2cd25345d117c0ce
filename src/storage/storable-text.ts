/**
 * Text both databases can store, for every text a run produces: PostgreSQL's text holds no NUL, and its
 * JSON no half surrogate pair (a string cut inside an emoji). Each becomes U+FFFD.
 */
export function storableText(text: string): string
export function storableText(text: string | null): string | null
export function storableText(text: string | null): string | null {
  if (text === null) return null
  const whole = text.isWellFormed() ? text : text.toWellFormed()
  return whole.includes('\u0000') ? whole.replaceAll('\u0000', '\uFFFD') : whole
}
