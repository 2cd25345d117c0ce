import type { Hook } from '@oclif/core'
import { closest, distance } from 'fastest-levenshtein'
import { EXIT } from '../../src/errors.js'

/**
 * `sq lsit`: sq's one-line `sq: …` error, exit 2, naming the nearest command when it looks like a typo
 * (@oclif/plugin-not-found exits 127 and prompts y/n on a terminal, where a script would hang).
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  // With topics separated by spaces, oclif joins the arguments to the id (`sq shwo 0bf14584` arrives as
  // `shwo:0bf14584`); sq's commands are single words, so the first is what was mistyped.
  const typed = opts.id.split(':')[0]!
  const ids = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases])
  const nearest = ids.length === 0 ? undefined : closest(typed, ids)
  const near =
    (typed.length >= 2 ? ids.find((id) => id.startsWith(typed)) : undefined) ??
    (nearest && isTypo(typed, nearest) ? nearest : undefined)
  const hint = near === undefined ? '' : `; did you mean "${near}"?`
  process.stderr.write(`sq: "${typed}" is not a sq command${hint} (sq help lists them)\n`)
  this.exit(EXIT.usage)
}

/** A letter or two changed, added or dropped, leaving most of the word: `lsit` is `list`, `nope` is not `top`. */
function isTypo(typed: string, id: string): boolean {
  const d = distance(typed, id)
  return d <= 2 && d <= id.length - 2
}

export default hook
