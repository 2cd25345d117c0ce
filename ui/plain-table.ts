/**
 * The table cli-table3 draws with render-text.ts's BARE chars, no style and no padding — each cell
 * padded with spaces to its column's width, cells joined by two spaces, one line per row — drawn
 * directly: cli-table3 and the colour and emoji code it brings are most of what a one-shot `sq list`
 * would load. Widths are measured as cli-table3 measures them (string-width), loaded only for a cell
 * that is not plain ASCII. For cells of one line without control characters (what ui/format.ts's
 * escapeControl makes); a test holds it to cli-table3's output.
 */
export async function plainTable(rows: string[][]): Promise<string> {
  const plain = (cell: string) => /^[\x20-\x7e]*$/.test(cell)
  const width = rows.every((row) => row.every(plain))
    ? (cell: string) => cell.length
    : (await import('string-width')).default
  // cli-table3 gives an empty column a width of one.
  const widths = rows[0]!.map((_, c) => Math.max(1, ...rows.map((row) => width(row[c]!))))
  return rows.map((row) => row.map((cell, c) => cell + ' '.repeat(widths[c]! - width(cell))).join('  ')).join('\n')
}

/** cli-table3 pads every cell to its column's width, the last one too: spaces a diff or a grep trips on. */
export function withoutTrailingSpaces(text: string): string {
  return text.replace(/[ \t]+$/gm, '')
}
