import { redactSecrets } from './redact.js'

/**
 * A password on the command line (`--db postgres://u:PW@…`) is readable by every local user in `ps`.
 * Setting process.title makes libuv overwrite the memory `ps` reads, so it shows `***` from here on; it
 * was readable until now (and stays in the shell's history), hence the warning on a terminal.
 * `args` are the arguments after the script; true when a password was hidden.
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
