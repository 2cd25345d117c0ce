/**
 * A cancellable delay: `sleep(ms)` resolves after `ms`, or at once when `wake()` is called — also when
 * the wake came while nobody slept (it is remembered for the next sleep, so a notification that lands
 * while the loop is busy is not lost).
 */
export class Wakeup {
  private pending = false
  private wakeSleeper: (() => void) | undefined

  wake(): void {
    if (this.wakeSleeper) this.wakeSleeper()
    else this.pending = true
  }

  /** Resolves true when the `ms` passed, false when woken. */
  async sleep(ms: number): Promise<boolean> {
    if (this.pending) {
      this.pending = false
      return false
    }
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeSleeper = undefined
        resolve(true)
      }, ms)
      this.wakeSleeper = () => {
        clearTimeout(timer)
        this.wakeSleeper = undefined
        resolve(false)
      }
    })
  }
}
