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

  async sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false
      return
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wakeSleeper?.(), ms)
      this.wakeSleeper = () => {
        clearTimeout(timer)
        this.wakeSleeper = undefined
        resolve()
      }
    })
  }
}
