/**
 * For a shared task process (child.ts): what code in a run writes to stdout or stderr (console.* too)
 * goes to that run's log over IPC, in order with its output and `done`, since one pipe cannot tell
 * concurrent runs apart. What is written outside any run (a timer a finished run left, a grandchild's
 * inherited stdio) goes on to the pipe, which is the worker's own.
 *
 * `toRunLog` sends the text to the current run's log and resolves once sent, or returns undefined when no
 * run is current.
 */
export function routeWrites(pipe: NodeJS.WriteStream, toRunLog: (text: string) => Promise<void> | undefined): void {
  const write = pipe.write.bind(pipe) as (...args: unknown[]) => boolean
  pipe.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
    const text =
      typeof chunk !== 'string'
        ? Buffer.from(chunk).toString('utf8')
        : typeof encoding === 'string' && encoding !== 'utf8'
          ? Buffer.from(chunk, encoding as BufferEncoding).toString('utf8')
          : chunk
    const sent = toRunLog(text)
    if (!sent) return write(chunk, encoding, callback)
    const done = [encoding, callback].find((a): a is () => void => typeof a === 'function')
    void sent.then(done)
    return true
  }) as typeof pipe.write
}
