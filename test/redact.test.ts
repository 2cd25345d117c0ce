import assert from 'node:assert/strict'
import { redactSecrets, registerUrlSecrets } from '../src/redact.js'

/**
 * The one redaction function, on every form a password takes in a URL. Here the URLs are NOT
 * registered first, so the patterns alone must hide them (as for a URL quoted in a driver's message).
 */
describe('redactSecrets', () => {
  const cases: Array<[string, string]> = [
    ['postgres://u:Pw1@h/db', 'postgres://u:***@h/db'],
    ['postgres://u:Pa55@w0rd@h:5432/db', 'postgres://u:***@h:5432/db'],
    ['postgres://u:p%40ss%2Fw0rd@h/db', 'postgres://u:***@h/db'],
    ['postgres://u:pa/ss?w0rd@h/db', 'postgres://u:***@h/db'],
    ['postgres://:Pw1@h/db', 'postgres://:***@h/db'],
    ['postgres://u@h/db?password=Pw1', 'postgres://u@h/db?password=***'],
    [
      'postgres://u@h/db?sslmode=disable&PassWord=Pw1&application_name=x',
      'postgres://u@h/db?sslmode=disable&PassWord=***&application_name=x',
    ],
    ['postgresql://u:Pw1@h/db?password=Pw2', 'postgresql://u:***@h/db?password=***'],
  ]
  for (const [url, shown] of cases) {
    it(`shows ${url} as ${shown}, alone and inside a sentence`, () => {
      assert.equal(redactSecrets(url), shown)
      assert.equal(
        redactSecrets(`cannot use database ${url}: connect ECONNREFUSED`),
        `cannot use database ${shown}: connect ECONNREFUSED`,
      )
      assert.equal(redactSecrets(`"${url}"`), `"${shown}"`)
    })
  }

  it('leaves URLs without a password as they are', () => {
    for (const url of ['postgres://u@h:5432/db', 'http://127.0.0.1:8000/task?task_id=ID', 'sqlite:/tmp/q.db']) {
      assert.equal(redactSecrets(url), url)
    }
  })

  it('hides a registered password wherever it appears, decoded too', () => {
    registerUrlSecrets('postgres://u@h/db?password=Zq%2F9%3Ax')
    registerUrlSecrets('postgres://u:Yk%40Wv7@h/db')
    assert.equal(
      redactSecrets('auth failed for Zq/9:x and Yk@Wv7 and Zq%2F9%3Ax'),
      'auth failed for *** and *** and ***',
    )
  })
})
