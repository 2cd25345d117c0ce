import assert from 'node:assert/strict'
import { sql } from 'kysely'
import type { Backend } from '../../src/storage/backend.js'
import { DIALECTS, useTestDatabase } from '../helpers/db.js'

const claimBackendPid = async (d: Backend) =>
  (await d.claim((db) => sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db))).rows[0]!.pid

if (DIALECTS.includes('postgres')) {
  describe('the claim connection (postgres)', () => {
    const t = useTestDatabase('postgres')

    // pg's pool closes a connection idle for 10 s; an idle worker's next claim would then open one,
    // tens of ms of its pickup.
    it('stays open while the worker idles past the pool idle timeout', async function () {
      this.timeout(30_000)
      const before = await claimBackendPid(t.d)
      await new Promise((resolve) => setTimeout(resolve, 11_000))
      assert.equal(await claimBackendPid(t.d), before)
    })
  })
}
