import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { startServe, type Served } from '../helpers/serve.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'
import { TASKS } from '../worker/fixtures.js'

/** The dashboard in a real browser: Chromium driven by playwright-core (test/helpers/browser.ts). */

async function end(s: WorkerSuite, id: string, status: 'completed' | 'failed', durationMs: number) {
  const now = new Date().toISOString()
  await s.queue.backend.db
    .updateTable('sq_tasks')
    .set({
      status,
      attempts: 1,
      duration_ms: durationMs,
      started: now,
      finished: now,
      modified: now,
      error: status === 'failed' ? 'Error: boom' : null,
    })
    .where('id', '=', id)
    .execute()
}

for (const dialect of DIALECTS) {
  describeOn(dialect, `dashboard in Chromium (${dialect})`, function () {
    this.timeout(90_000)
    let browser: Browser
    let page: Page
    let served: Served | undefined
    const errors: string[] = []

    before(async () => {
      browser = await launchChromium()
    })
    beforeEach(async () => {
      page = await browser.newPage()
      page.on('pageerror', (e) => errors.push(e.message))
    })
    afterEach(async () => {
      await page.close()
      await served?.stop()
      served = undefined
    })
    after(async () => {
      await browser?.close()
    })
    // After the hooks above, so that its check for leaked processes runs after the server is stopped.
    const s = workerSuite(dialect, { 'tasks.mjs': TASKS })

    it('shows the counts, a running task with its output live, and cancels it with --allow-actions', async () => {
      const done = await Promise.all([1, 2, 3].map(() => s.enqueue('tasks#text')))
      await end(s, done[0]!, 'completed', 20)
      await end(s, done[1]!, 'completed', 40)
      await end(s, done[2]!, 'failed', 10)
      await s.enqueue('tasks#text')
      served = await startServe(s, ['--allow-actions'])

      await page.goto(`${served.base}/`)
      const count = (status: string) => page.locator(`#counts [data-status="${status}"] .n`)
      await page.waitForFunction(
        () => document.querySelector('#counts [data-status="completed"] .n')?.textContent === '2',
      )
      assert.equal(await count('failed').textContent(), '1')
      assert.equal(await count('queued').textContent(), '1')
      assert.match((await page.locator('#queues').textContent())!, new RegExp(s.q))

      // A generator task that yields, waits for the test's gate file, and yields again.
      const gate = s.file('gate')
      const id = await s.enqueue('tasks#gated', { gate })
      const worker = s.worker()
      await page.waitForFunction(
        (short) => document.querySelector('#running')?.textContent?.includes(short),
        id.slice(0, 8),
        {
          timeout: 20_000,
        },
      )

      await page.goto(`${served.base}/#/task/${id}`)
      const output = page.locator('#output')
      await page.waitForFunction(() => document.getElementById('output')?.textContent?.includes('part one;'), null, {
        timeout: 15_000,
      })
      assert.doesNotMatch((await output.textContent())!, /part two/)
      const opened = Date.now()
      fs.writeFileSync(gate, '')
      await page.waitForFunction(() => document.getElementById('output')?.textContent === 'part one; part two', null, {
        timeout: 10_000,
      })
      process.stdout.write(`      (output on the page ${Date.now() - opened} ms after the gate opened)\n`)
      await page.waitForFunction(() => document.getElementById('task-status')?.textContent === 'Completed')
      assert.equal(await page.locator('#requeue').count(), 1, 'an ended task offers requeue')

      // A second run, cancelled from its page while it waits at its gate.
      const hung = await s.enqueue('tasks#gated', { gate: s.file('never') })
      await page.goto(`${served.base}/#/task/${hung}`)
      await page.waitForFunction(() => document.getElementById('output')?.textContent?.includes('part one;'), null, {
        timeout: 15_000,
      })
      assert.equal(await page.locator('#task-status').textContent(), 'In progress')
      await page.locator('#cancel').click()
      await page.waitForFunction(() => document.getElementById('task-status')?.textContent === 'Cancelled', null, {
        timeout: 10_000,
      })
      assert.match((await page.locator('#flash').textContent())!, new RegExp(`cancelled ${hung}`))
      assert.equal((await s.get(hung)).status, 'cancelled')
      assert.equal(await output.textContent(), 'part one;', 'the cancelled run keeps what it wrote')

      worker.signal('SIGTERM')
      await worker.ended()
      assert.deepEqual(errors, [], 'no script errors on the page')
    })

    it('read-only without --allow-actions: no action buttons; search and paging of the task list', async () => {
      for (let i = 0; i < 25; i++) await s.enqueue('tasks#text', { n: i })
      const special = await s.enqueue('tasks#json', { note: 'findme' })
      served = await startServe(s)
      await page.goto(`${served.base}/`)
      await page.waitForSelector('#tasks table')
      assert.equal(await page.locator('button[data-post]').count(), 0)
      assert.match((await page.locator('header').textContent())!, /read-only/)
      assert.equal(await page.locator('#tasks tbody tr').count(), 20, 'a page holds 20 tasks')
      await page.locator('#next').click()
      await page.waitForFunction(() => document.getElementById('page')?.textContent === 'page 2')
      assert.ok((await page.locator('#tasks tbody tr').count()) >= 6)
      await page.locator('#search').fill('findme')
      await page.waitForFunction(() => document.querySelectorAll('#tasks tbody tr').length === 1, null, {
        timeout: 5000,
      })
      assert.match((await page.locator('#tasks tbody').textContent())!, new RegExp(special.slice(0, 8)))
      assert.deepEqual(errors, [], 'no script errors on the page')
    })
  })
}
