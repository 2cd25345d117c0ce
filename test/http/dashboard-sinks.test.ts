import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import { insertTask } from '../../src/storage/task-repository.js'
import { registerWorker } from '../../src/storage/worker-repository.js'
import { launchChromium } from '../helpers/browser.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { startServe, type Served } from '../helpers/serve.js'
import { newTask } from '../helpers/sq.js'
import { workerSuite } from '../helpers/worker.js'
import { TASKS } from '../worker/fixtures.js'

/**
 * Values the dashboard took for numbers, written straight into the table: SQLite keeps text in an
 * integer column (attempts, max_attempts, priority, a worker's concurrency) and in the id column
 * (PostgreSQL's are typed: there only the policy is checked). Markup in them runs no script (the
 * payload would set window.pwned) and shows as text.
 */
const PAYLOAD = '<img src=x onerror=pwned=1>'

for (const dialect of DIALECTS) {
  describeOn(dialect, `dashboard values written directly, in Chromium (${dialect})`, function () {
    this.timeout(90_000)
    let browser: Browser
    let page: Page
    let served: Served | undefined
    const blocked: string[] = []

    before(async () => {
      browser = await launchChromium()
    })
    beforeEach(async () => {
      page = await browser.newPage()
      page.on('console', (m) => m.type() === 'error' && blocked.push(m.text()))
    })
    afterEach(async () => {
      await page.close()
      await served?.stop()
      served = undefined
    })
    after(async () => {
      await browser?.close()
    })
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('runs no script from any column and shows the markup as text, under a Content-Security-Policy', async () => {
      const d = s.queue.backend
      const sqlite = dialect === 'sqlite'
      if (sqlite) await insertTask(d, newTask({ id: PAYLOAD, task: 'tasks#text', queue: s.q }))
      const numeric = await insertTask(d, newTask({ task: 'tasks#text', queue: s.q }))
      if (sqlite) {
        const text = PAYLOAD as unknown as number
        await d.db
          .updateTable('sq_tasks')
          .set({ attempts: text, max_attempts: text, priority: text })
          .where('id', '=', numeric.id)
          .execute()
      }
      await registerWorker(d, {
        id: randomUUID(),
        name: 'w',
        host: 'h',
        pid: 1,
        queues: [s.q],
        concurrency: sqlite ? (PAYLOAD as unknown as number) : 1,
      })
      served = await startServe(s, ['--allow-actions'])

      for (const path of ['/', `/task?task_id=${numeric.id}`]) {
        const res = await fetch(`${served.base}${path}`)
        assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/, path)
      }

      await page.goto(`${served.base}/#/workers`)
      await page.waitForSelector('#workers table')
      if (sqlite)
        assert.match((await page.locator('#workers').textContent())!, /<img src=x/, 'concurrency shows as text')
      await page.goto(`${served.base}/#/tasks`)
      await page.waitForFunction((n) => document.querySelectorAll('#tasks tbody tr').length === n, sqlite ? 2 : 1)
      const tasks = (await page.locator('#tasks tbody').textContent())!
      const button = page.locator('#tasks button[data-post]').first()
      assert.ok((await button.getAttribute('data-post'))?.startsWith('/api/tasks/'))
      if (sqlite) {
        assert.match(tasks, /<img src=x/, 'the id shows as text')
        assert.match(tasks, /<img src=x onerror=pwned=1>\/<img/, 'attempts/max_attempts show as text')
      }
      assert.equal(await page.locator('#main img').count(), 0, 'no element made of a value')

      await page.goto(`${served.base}/#/task/${numeric.id}`)
      await page.waitForSelector('#details table')
      if (sqlite) assert.match((await page.locator('#details').textContent())!, /Priority<img src=x/)
      assert.equal(await page.locator('#main img').count(), 0)
      assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined)
      assert.deepEqual(
        blocked.filter((m) => /Content Security Policy/i.test(m)),
        [],
        'the pages need nothing the policy blocks',
      )
    })
  })
}
