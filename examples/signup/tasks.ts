// The task the signup examples enqueue: a worker run from this folder (`sq worker`) runs it.

/** Sends the welcome email (here: says it did). */
export function welcome({ email }: { email: string }) {
  return `welcome mail sent to ${email}`
}
