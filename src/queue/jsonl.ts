import { UsageError } from '../errors.js'
import type { TaskArgs } from '../types.js'
import { describe, isPlainObject } from './args.js'

/** One args object of a JSONL batch, with the line it came from (1-based, counting blank lines). */
export interface JsonlItem {
  line: number
  args: TaskArgs
}

/** The args objects of `--jsonl` text, blank lines skipped; a bad line refuses the batch, never quoted. */
export function parseJsonl(text: string, source: string): JsonlItem[] {
  const items: JsonlItem[] = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim()
    if (raw === '') continue
    let value: unknown
    try {
      value = JSON.parse(raw)
    } catch {
      throw new UsageError(`--jsonl ${source} line ${i + 1} is not valid JSON`)
    }
    if (!isPlainObject(value)) {
      throw new UsageError(`--jsonl ${source} line ${i + 1} must be a JSON object of args, got ${describe(value)}`)
    }
    items.push({ line: i + 1, args: value })
  }
  return items
}

/**
 * A line's key from `--key`'s template: `{name}` that arg (a string as written, else JSON), `{line}` its number;
 * a missing arg refuses the batch. Without a placeholder, one key for the whole batch.
 */
export function keyFromTemplate(template: string, item: JsonlItem, source: string): string {
  return template.replace(/\{([^{}]+)\}/g, (_, name: string) => {
    if (name === 'line') return String(item.line)
    if (!Object.hasOwn(item.args, name))
      throw new UsageError(`--jsonl ${source} line ${item.line} has no "${name}", which --key names`)
    const value = item.args[name]
    return typeof value === 'string' ? value : JSON.stringify(value)
  })
}
