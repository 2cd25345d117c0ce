import assert from 'node:assert/strict'
import { plainTable } from '../../ui/tables.js'
import { tableOf } from '../../ui/render-text.js'

/** plainTable draws `sq list`'s table without cli-table3: it must draw exactly what cli-table3 draws. */
describe('plainTable', () => {
  const cli = (rows: string[][]) => tableOf(rows[0]!, rows.slice(1), { boldHead: false })

  it('draws what cli-table3 draws with the BARE chars and no style', async () => {
    const cases: string[][][] = [
      [
        ['ID', 'STATUS'],
        ['a', 'b'],
      ],
      [
        ['ID', 'STATUS', 'TASK', 'MODIFIED', 'OUTPUT / ERROR'],
        ['1e1f9389', 'Queued', 'tasks#noop', '1m34s ago', ''],
        ['00aa', 'Failed', 'a/very/long/module/path#expo…', '2h ago', 'Error: boom'],
      ],
      [
        ['H', 'é', 'x'],
        ['中文字', '😀', 'ok'],
        ['e\u0301', '👨‍👩‍👧', '↵ ¡'],
        ['', '', ''],
      ],
      [
        ['A', 'B'],
        ['ｆｕｌｌ', 'ﾊﾝｶｸ'],
        ['한국어', 'Ⅻ…'],
      ],
    ]
    // And rows of random cells from a pool of characters of every width.
    const pool = [...'abcXYZ 09#/._-…↵中文😀é\u0301ｆ한ﾊ\u200b']
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 50; i++) {
      const cols = 1 + random(5)
      cases.push(
        Array.from({ length: 1 + random(4) }, () =>
          Array.from({ length: cols }, () =>
            Array.from({ length: random(8) }, () => pool[random(pool.length)]).join(''),
          ),
        ),
      )
    }
    for (const rows of cases) assert.equal(await plainTable(rows), cli(rows), JSON.stringify(rows))
  })
})
