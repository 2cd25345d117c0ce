import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../helpers/browser.js'
import { DIALECTS, describeOn } from '../helpers/db.js'
import { startServe, type Served } from '../helpers/serve.js'
import { workerSuite, type WorkerSuite } from '../helpers/worker.js'
import { TASKS } from '../worker/fixtures.js'

/** The dashboard in a real browser: Chromium driven by playwright-core (test/helpers/browser.ts). */

async function end(s: WorkerSuite, id: string, status: 'completed' | 'failed', durationMs: number, at = new Date()) {
  const now = at.toISOString()
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
      assert.equal(await page.locator('#queues').count(), 0, 'the queues have a tab of their own')
      await page.locator('#nav a', { hasText: 'Queues' }).click()
      await page.waitForSelector('#queues table')
      assert.match((await page.locator('#queues').textContent())!, new RegExp(s.q))
      assert.equal(new URL(page.url()).hash, '#/queues')
      await page.reload()
      await page.waitForSelector('#queues table')
      assert.equal(await page.locator('#nav a.on').textContent(), 'Queues', 'a reload returns to the tab')
      await page.locator('#nav a', { hasText: 'Overview' }).click()

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
      const asked: string[] = []
      page.once('dialog', (d) => {
        asked.push(d.message())
        void d.dismiss()
      })
      await page.locator('#cancel').click()
      await page.waitForTimeout(1500)
      assert.match(asked[0] ?? '', new RegExp(`^Cancel tasks#gated ${hung.slice(0, 8)}\\?`))
      assert.equal((await s.get(hung)).status, 'progress', 'a dismissed confirmation does nothing')
      assert.equal(await page.locator('#task-status').textContent(), 'In progress')
      page.once('dialog', (d) => void d.accept())
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
      await page.goto(`${served.base}/#/tasks`)
      await page.waitForSelector('#tasks table')
      assert.equal(await page.locator('button[data-post], button[data-bulk]').count(), 0)
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

    it('retries the failed tasks of a queue and purges old completed ones, each confirmed with its count', async () => {
      const [failed1, failed2, done, old] = await Promise.all([1, 2, 3, 4].map(() => s.enqueue('tasks#text')))
      await end(s, failed1!, 'failed', 10)
      await end(s, failed2!, 'failed', 10)
      await end(s, done!, 'completed', 10)
      await end(s, old!, 'completed', 10, new Date(Date.now() - 2 * 86_400_000))
      const elsewhere = (await s.queue.enqueue({ task: 'tasks#text', queue: `${s.q}-other` })).id
      await end(s, elsewhere, 'failed', 10)
      served = await startServe(s, ['--allow-actions'])
      const asked: string[] = []
      const answer = (accept: boolean) =>
        page.once('dialog', (d) => {
          asked.push(d.message())
          void (accept ? d.accept() : d.dismiss())
        })

      // Requeue is offered where it applies: on failed rows, not on completed ones.
      await page.goto(`${served.base}/#/tasks/completed`)
      await page.waitForFunction(() => document.querySelectorAll('#tasks tbody tr').length >= 2)
      // By the queue cell: a row's text holds times, whose "T1…" hasText would match queue t1.
      const ours = page.locator('td', { hasText: new RegExp(`^${s.q}(-other)?$`) })
      const requeues = () => page.locator('#tasks tbody tr', { has: ours }).locator('button', { hasText: 'Requeue' })
      assert.equal(await requeues().count(), 0)
      await page.goto(`${served.base}/#/tasks/failed`)
      await page.waitForFunction(() => document.querySelectorAll('#tasks tbody tr').length >= 3)
      assert.equal(await requeues().count(), 3)

      await page.goto(`${served.base}/#/queues`)
      const row = page.locator('#queues tr', { has: page.locator('td', { hasText: new RegExp(`^${s.q}$`) }) })
      const retry = row.locator('button', { hasText: 'Retry failed' })
      answer(false)
      await retry.click()
      await page.waitForTimeout(1500)
      assert.equal(asked[0], `Retry 2 failed tasks in queue ${s.q}?`)
      assert.equal((await s.get(failed1!)).status, 'failed', 'a dismissed confirmation does nothing')
      answer(true)
      await retry.click()
      await page.waitForFunction(() => /requeued 2 failed tasks/.test(document.getElementById('flash')!.textContent!))
      assert.equal((await s.get(failed1!)).status, 'queued')
      assert.equal((await s.get(failed2!)).status, 'queued')
      assert.equal((await s.get(elsewhere)).status, 'failed', 'another queue keeps its failed tasks')

      await page.locator('#purge-age').selectOption('1d')
      answer(true)
      await page.locator('#queues button', { hasText: 'Purge' }).click()
      await page.waitForFunction(() =>
        /purged 1 completed task older than 1d/.test(document.getElementById('flash')!.textContent!),
      )
      assert.equal(asked[2], 'Delete 1 completed task older than 1d?')
      await assert.rejects(s.get(old!), /no task/)
      assert.equal((await s.get(done!)).status, 'completed', 'a recent one stays')
      assert.deepEqual(errors, [], 'no script errors on the page')
    })

    it('shows times relative, with the absolute time on hover', async () => {
      const id = await s.enqueue('tasks#text')
      const at = new Date(Date.now() - 3 * 60_000)
      await end(s, id, 'completed', 10, at)
      served = await startServe(s)
      await page.goto(`${served.base}/#/tasks/completed`)
      const time = page.locator('#tasks tbody tr', { hasText: id.slice(0, 8) }).locator('time')
      await time.waitFor()
      assert.equal(await time.textContent(), '3 min ago')
      await time.hover()
      const title = await time.getAttribute('title')
      assert.equal(title, await page.evaluate((iso) => new Date(iso).toLocaleString(), at.toISOString()))
      await page.goto(`${served.base}/#/task/${id}`)
      await page.waitForSelector('#details time')
      assert.match((await page.locator('#details').textContent())!, /Finished3 min ago/)
    })
  })
}
