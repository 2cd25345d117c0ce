// Example task module: `sq enqueue tasks#countdown --arg n=5` from this folder.

/** A generator task: each yield is appended to the task's output while it runs. */
export async function* countdown({ n = 5, delayMs = 300 }: { n?: number; delayMs?: number }) {
  for (let i = n; i > 0; i--) {
    console.log(`about to yield ${i}`) // goes to the task's log
    yield `${i}…\n`
    yield { progress: { current: n - i + 1, total: n, message: `counting down from ${n}` } }
    await new Promise((resolve) => setTimeout(resolve, delayMs))
  }
  yield 'liftoff\n'
}

/** A plain task: its return value is the output. */
export async function sendEmail({ to, subject }: { to: string; subject: string }) {
  return `Email "${subject}" sent to ${to}`
}
