import { getCurrentScope, onScopeDispose, readonly, ref } from 'vue'

export interface PollingOptions {
  /** Time between the end of one run and the start of the next. */
  intervalMs: number
  /** Start at once (the default); false: wait for `start()`. */
  immediate?: boolean
}

/**
 * Runs `task` now and again `intervalMs` after each run ends, never two at a time, until
 * `stop()` or the end of the component (or effect scope) that called it: leaving the page
 * stops the polling and aborts the request in flight. `refresh()` runs it now and starts the
 * wait over. A failing run does not stop the polling (the next one may succeed).
 */
export function usePolling(task: (signal: AbortSignal) => Promise<unknown>, options: PollingOptions) {
  const active = ref(false)
  const running = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null
  let controller: AbortController | null = null
  let run = 0

  function clearTimer(): void {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }

  async function tick(): Promise<void> {
    clearTimer()
    controller?.abort()
    const mine = ++run
    const own = new AbortController()
    controller = own
    running.value = true
    try {
      await task(own.signal)
    } catch {
      // The task shows its own errors; the polling goes on.
    } finally {
      if (mine === run) {
        running.value = false
        controller = null
        if (active.value) timer = setTimeout(() => void tick(), options.intervalMs)
      }
    }
  }

  /** Starts polling (a run now); does nothing when already polling. */
  function start(): Promise<void> {
    if (active.value) return Promise.resolve()
    active.value = true
    return tick()
  }

  /** Runs the task now and restarts the wait; polls from then on if stopped. */
  function refresh(): Promise<void> {
    active.value = true
    return tick()
  }

  /** No further runs; the one in flight is aborted. */
  function stop(): void {
    active.value = false
    clearTimer()
    controller?.abort()
    controller = null
    run++
    running.value = false
  }

  if (getCurrentScope()) onScopeDispose(stop)
  if (options.immediate ?? true) void start()

  return { active: readonly(active), running: readonly(running), start, stop, refresh }
}
