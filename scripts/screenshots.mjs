// Takes the README's screenshots of the dashboard (docs/dashboard.png, docs/dashboard-task.png) with the
// browser setup of the tests: Debian's Chromium driven by playwright-core. Run after `npm run build`:
//   node scripts/screenshots.mjs
// It fills a temporary SQLite queue (examples/tasks.ts-like tasks), runs a worker and `sq serve`, and
// removes everything it made when done.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const bin = path.join(root, 'bin/run.js')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sq-shots-'))
const env = { ...process.env, SQ_DATABASE_URL: path.join(dir, 'sq.db') }
const children = []
const sq = (...args) => execFileSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8' }).trim()
const start = (...args) => {
  const child = spawn(process.execPath, [bin, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return child
}

fs.writeFileSync(
  path.join(dir, 'tasks.mjs'),
  `const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
export async function* countdown({ n = 5, delayMs = 300 }) {
  for (let i = n; i > 0; i--) { yield i + '…\\n'; yield { progress: { current: n - i + 1, total: n, message: 'counting down' } }; await sleep(delayMs) }
  yield 'liftoff\\n'
}
export async function sendEmail({ to }) { await sleep(30 + Math.random() * 200); return 'sent to ' + to }
export async function resize({ image }) { await sleep(50); if (image.endsWith('.gif')) throw new Error('unsupported format: gif'); return 'resized ' + image }
`,
)

fs.writeFileSync(
  path.join(dir, 'sq.config.mjs'),
  `export default { schedules: [
  { name: 'nightly-digest', cron: '30 2 * * *', task: 'tasks#sendEmail', args: { to: 'team@example.com' }, timezone: 'Europe/Paris' },
  { name: 'thumbnails', cron: '*/5 * * * *', task: 'tasks#resize', args: { image: 'latest.png' }, queue: 'images' },
] }
`,
)

try {
  for (let i = 0; i < 14; i++) sq('enqueue', 'tasks#sendEmail', '--arg', `to=user${i}@example.com`, '--queue', 'mail')
  for (const image of ['a.png', 'b.jpg', 'c.gif', 'd.png', 'e.gif'])
    sq('enqueue', 'tasks#resize', '--arg', `image=${image}`, '--queue', 'images')
  // Some resizes fail on purpose; a burst worker may say so in its exit code.
  spawnSync(process.execPath, [bin, 'worker', '--burst', '--queue', 'mail,images', '--concurrency', '4'], {
    cwd: dir,
    env,
    stdio: 'ignore',
  })
  for (let i = 0; i < 3; i++)
    sq('enqueue', 'tasks#sendEmail', '--arg', `to=later${i}@example.com`, '--queue', 'mail', '--delay', '10m')
  for (let i = 0; i < 4; i++) sq('enqueue', 'tasks#resize', '--arg', `image=report${i}.png`, '--queue', 'reports')
  const id = sq('enqueue', 'tasks#countdown', '--arg', 'n=80', '--arg', 'delayMs=400')
  sq('enqueue', 'tasks#countdown', '--arg', 'n=60', '--arg', 'delayMs=500')
  start('worker', '--concurrency', '2')

  const serve = start('serve', '--port', '0', '--allow-actions')
  const base = await new Promise((resolve) => {
    let out = ''
    serve.stdout.on('data', (d) => {
      out += d
      const m = /(http:\/\/[^/]+:\d+)\//.exec(out)
      if (m) resolve(m[1])
    })
  })
  const browser = await chromium.launch({
    executablePath: process.env.SQ_TEST_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  })
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 })
  await new Promise((r) => setTimeout(r, 3000))
  await page.goto(`${base}/#/overview`)
  await page.waitForFunction(() => document.querySelectorAll('#running tbody tr').length === 2)
  await page.waitForTimeout(1200)
  await page.screenshot({ path: path.join(root, 'docs/dashboard.png') })
  await page.setViewportSize({ width: 1280, height: 1280 })
  await page.goto(`${base}/#/task/${id}`)
  await page.waitForFunction(() => (document.getElementById('output')?.textContent ?? '').split('\n').length > 6)
  await page.screenshot({ path: path.join(root, 'docs/dashboard-task.png') })
  await browser.close()
  console.log('wrote docs/dashboard.png and docs/dashboard-task.png')
} finally {
  // A second SIGTERM stops the worker at once (its running countdowns are given back); only then is
  // its database deleted, or it would notice and complain.
  await Promise.all(
    children.map((child) => {
      if (child.exitCode !== null || child.signalCode !== null) return undefined
      const gone = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGTERM'), 200)
      return gone
    }),
  )
  fs.rmSync(dir, { recursive: true, force: true })
}
