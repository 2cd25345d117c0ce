import fs from 'node:fs'
import { chromium, type Browser } from 'playwright-core'

/**
 * A real browser for the dashboard tests: Debian's chromium (`apt-get install -y chromium`), driven by
 * playwright-core. Nothing is installed at run time; without the binary the suite fails and says how
 * to install it (README "Set-up").
 */
export const CHROMIUM = process.env.SQ_TEST_CHROMIUM ?? '/usr/bin/chromium'

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set SQ_TEST_CHROMIUM`,
    )
  }
  // --no-sandbox: the tests may run as root in a container, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}
