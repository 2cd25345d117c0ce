import { redactSecrets } from './redact.js'

/** The database URLs given with `--db URL` or `--db=URL`. */
function databaseFlags(args: readonly string[]): string[] {
  return args.flatMap((arg, i) =>
    arg === '--db' && i + 1 < args.length ? [args[i + 1]!] : arg.startsWith('--db=') ? [arg.slice(5)] : [],
  )
}

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
  // Advice for the person who typed it; in a script's stderr it would make a one-line error two.
  if (process.stderr.isTTY && databaseFlags(args).some((url) => redactSecrets(url) !== url)) {
    process.stderr.write(
      'sq: warning: the password in --db is visible to other local users (ps) while sq starts; give the database URL in SQ_DATABASE_URL or sq.config.* instead\n',
    )
  }
  return true
}
