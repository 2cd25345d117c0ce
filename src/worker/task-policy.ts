import { authorizeReference } from '../queue/reference.js'

/** How long the policy's verdict on a reference is reused (it stats files; the child caches imports). */
const CACHE_MS = 1000
/** References remembered at most; past it the cache starts over. */
const MAX_ENTRIES = 1000

/**
 * The allowlist and root, checked again at run time: a row may not have come from `sq enqueue`. The
 * check runs before anything is imported, and its verdict on a reference is cached for a second.
 */
export class TaskPolicy {
  private readonly verdicts = new Map<string, { at: number; refusal: string | undefined }>()

  constructor(
    private readonly root: string,
    private readonly allowedTasks: string[] | null,
  ) {}

  /** Why this reference may not run; undefined when it may. */
  refusal(ref: string): string | undefined {
    const now = Date.now()
    const cached = this.verdicts.get(ref)
    if (cached && now - cached.at < CACHE_MS) return cached.refusal
    let refusal: string | undefined
    try {
      authorizeReference(ref, this.root, this.allowedTasks)
    } catch (error) {
      refusal = (error as Error).message
    }
    if (this.verdicts.size >= MAX_ENTRIES) this.verdicts.clear()
    this.verdicts.set(ref, { at: now, refusal })
    return refusal
  }
}
