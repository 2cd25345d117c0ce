import { redactSecrets } from './redact.js'

/**
 * Hides a command-line password (`--db postgres://u:PW@…`) from `ps`: setting process.title overwrites the
 * memory `ps` reads. It was readable until now, hence the warning on a terminal. True when one was hidden.
 */
export function concealCommandLinePasswords(args: readonly string[] = process.argv.slice(2)): boolean {
  const shown = args.map((arg) => redactSecrets(arg))
  if (shown.every((arg, i) => arg === args[i])) return false
  process.title = ['sq', ...shown].join(' ')
  // The URL of `--db URL` or `--db=URL`.
  const isDatabaseUrl = (arg: string, i: number) => args[i - 1] === '--db' || arg.startsWith('--db=')
  // Advice for the person who typed it; in a script's stderr it would make a one-line error two.
  if (process.stderr.isTTY && args.some((arg, i) => isDatabaseUrl(arg, i) && shown[i] !== arg)) {
    process.stderr.write(
      'sq: warning: the password in --db is visible to other local users (ps) while sq starts; give the database URL in SQ_DATABASE_URL or sq.config.* instead\n',
    )
  }
  return true
}
