/**
 * The worker's log sink: each line stamped with the time, and the lines of one turn of the event loop
 * written together — a busy worker logs two lines per task, and a write per line cost more CPU than
 * the task itself.
 */
export function bufferedLog(write: (text: string) => void): (line: string) => void {
  let pending = ''
  return (line) => {
    if (pending === '') setImmediate(() => {
      const text = pending
      pending = ''
      write(text)
    })
    pending += `${new Date().toISOString()} ${line}\n`
  }
}
