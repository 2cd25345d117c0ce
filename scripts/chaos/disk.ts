import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

/**
 * A small tmpfs for the SQLite soak's database, so a full disk can be made and undone in a moment:
 * `fill()` writes a file until the filesystem refuses, `free()` removes it. Mounting needs root; where
 * it is refused, `mount()` says why and the soak runs without the disk-full fault.
 */
export class SmallDisk {
  private readonly filler: string

  private constructor(readonly dir: string) {
    this.filler = path.join(dir, 'filler')
  }

  /** A tmpfs of `sizeMb` on a new directory, or the reason it could not be mounted. */
  static mount(dir: string, sizeMb = 64): SmallDisk | string {
    fs.mkdirSync(dir, { recursive: true })
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'pipe' })
      return new SmallDisk(dir)
    } catch (error) {
      fs.rmSync(dir, { recursive: true, force: true })
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
      return stderr || (error as Error).message
    }
  }

  /** Fills the disk to the last byte. */
  fill(): void {
    const fd = fs.openSync(this.filler, 'w')
    try {
      for (const size of [1 << 20, 1 << 12, 1 << 9]) {
        const chunk = Buffer.alloc(size)
        for (;;) {
          try {
            fs.writeSync(fd, chunk)
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break
            throw error
          }
        }
      }
    } finally {
      fs.closeSync(fd)
    }
  }

  free(): void {
    fs.rmSync(this.filler, { force: true })
  }

  /** Unmounts (lazily, should a process still hold a file there) and removes the directory. */
  unmount(): void {
    try {
      execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' })
      fs.rmSync(this.dir, { recursive: true, force: true })
    } catch {
      // left for the operator: the soak's summary names the directory
    }
  }
}
