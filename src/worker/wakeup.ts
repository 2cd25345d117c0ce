/**
 * A cancellable delay: `sleep(ms)` resolves after `ms`, or at once when `wake()` is called — also when
 * the wake came while nobody slept (it is remembered for the next sleep, so a notification that lands
 * while the loop is busy is not lost).
 */
export class Wakeup {
  private pending = false
  private resolve: (() => void) | undefined
  private timer: NodeJS.Timeout | undefined

  wake(): void {
    if (this.resolve) this.finish()
    else this.pending = true
  }

  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      this.resolve = resolve
      this.timer = setTimeout(() => this.finish(), ms)
    })
  }

  private finish(): void {
    clearTimeout(this.timer)
    const resolve = this.resolve
    this.resolve = undefined
    resolve?.()
  }
}
