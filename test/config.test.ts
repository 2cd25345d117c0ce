import assert from 'node:assert/strict'
import { parseDatabaseUrl } from '../src/storage/open.js'

describe('database URLs', () => {
  it('selects PostgreSQL for postgres:// and postgresql://, SQLite otherwise', () => {
    assert.deepEqual(parseDatabaseUrl('postgres://u@h/db'), { kind: 'postgres', url: 'postgres://u@h/db' })
    assert.deepEqual(parseDatabaseUrl('postgresql://u@h/db'), { kind: 'postgres', url: 'postgresql://u@h/db' })
    assert.deepEqual(parseDatabaseUrl('sqlite:data/q.db'), { kind: 'sqlite', path: 'data/q.db' })
    assert.deepEqual(parseDatabaseUrl('file:/tmp/q.db'), { kind: 'sqlite', path: '/tmp/q.db' })
    assert.deepEqual(parseDatabaseUrl('q.db'), { kind: 'sqlite', path: 'q.db' })
  })
  it('refuses other schemes without printing their password', () => {
    assert.throws(() => parseDatabaseUrl('mysql://u:topsecret@h/db'), (e: Error) => !e.message.includes('topsecret') && /unsupported/.test(e.message))
  })
})

describe('one-line errors', () => {
  it('joins an introducing line with the reason that follows it', async () => {
    const { oneLine } = await import('../src/errors.js')
    assert.equal(oneLine('Parsing --concurrency \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help'),
      'Parsing --concurrency: Expected an integer greater than or equal to 1 but received: 0')
    assert.equal(oneLine('The following errors occurred:\n  --at cannot also be provided when using --delay\nSee more help'),
      'The following errors occurred: --at cannot also be provided when using --delay')
    assert.equal(oneLine('malformed task id "abc"'), 'malformed task id "abc"')
  })
})
