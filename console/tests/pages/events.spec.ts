import { effectScope } from 'vue'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ageParts, formatAge, type AgeUnit } from '@/modules/events/age'
import {
  cleanFilters,
  filtersFromQuery,
  prettyData,
  queryOfFilters,
  userIdOfSubject,
} from '@/modules/events/browse'
import en from '@/modules/events/locales/en'
import zhCN from '@/modules/events/locales/zh-CN'
import { usePolling } from '@/modules/events/usePolling'

function words(messages: typeof en) {
  const age = messages.events.age
  return {
    unit: (unit: AgeUnit, n: number) => age[unit].replace('{n}', String(n)),
    now: age.now,
    none: age.none,
  }
}

describe('the age of the oldest unpublished event', () => {
  it('keeps the two largest units, rounded down, and drops a zero second unit', () => {
    expect(ageParts(0.4)).toEqual([])
    expect(ageParts(1)).toEqual([[1, 's']])
    expect(ageParts(59.99)).toEqual([[59, 's']])
    expect(ageParts(60)).toEqual([[1, 'min']])
    expect(ageParts(192.4)).toEqual([
      [3, 'min'],
      [12, 's'],
    ])
    // 2 h 0 min 30 s: the seconds are below the two units shown, the zero minutes are left out.
    expect(ageParts(7230)).toEqual([[2, 'h']])
    expect(ageParts(7290)).toEqual([
      [2, 'h'],
      [1, 'min'],
    ])
    expect(ageParts(3 * 86_400 + 4 * 3_600 + 59)).toEqual([
      [3, 'd'],
      [4, 'h'],
    ])
    expect(ageParts(-5)).toEqual([]) // a clock a little ahead of the server's
  })

  it('reads as words in both languages, with the cases without a number', () => {
    expect(formatAge(192.4, words(en))).toBe('3 min 12 s')
    expect(formatAge(192.4, words(zhCN))).toBe('3 分 12 秒')
    expect(formatAge(90_000, words(en))).toBe('1 d 1 h')
    expect(formatAge(0.2, words(en))).toBe('under a second')
    expect(formatAge(null, words(en))).toBe('nothing waiting')
    expect(formatAge(null, words(zhCN))).toBe('没有等待中的事件')
    expect(formatAge(Number.NaN, words(en))).toBe('nothing waiting')
  })
})

describe('polling the relay status', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  /** A task whose runs end when the test says so. */
  function slowTask() {
    const runs: { signal: AbortSignal; finish: (fail?: boolean) => void }[] = []
    const task = (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        runs.push({ signal, finish: (fail) => (fail ? reject(new Error('down')) : resolve()) })
      })
    return { runs, task }
  }

  it('runs at once, then again an interval after each run ends, never two at a time', async () => {
    const { runs, task } = slowTask()
    const scope = effectScope()
    const polling = scope.run(() => usePolling(task, { intervalMs: 3000 }))!
    expect(runs).toHaveLength(1)
    expect(polling.running.value).toBe(true)
    await vi.advanceTimersByTimeAsync(10_000) // the first run is still going: no second one
    expect(runs).toHaveLength(1)
    runs[0]!.finish()
    await vi.advanceTimersByTimeAsync(2999)
    expect(runs).toHaveLength(1)
    expect(polling.running.value).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toHaveLength(2)
    scope.stop()
  })

  it('goes on after a failed run', async () => {
    const { runs, task } = slowTask()
    const scope = effectScope()
    scope.run(() => usePolling(task, { intervalMs: 1000 }))
    runs[0]!.finish(true)
    await vi.advanceTimersByTimeAsync(1000)
    expect(runs).toHaveLength(2)
    scope.stop()
  })

  it('stops when the page is left: no further run, the one in flight aborted', async () => {
    const { runs, task } = slowTask()
    const scope = effectScope()
    const polling = scope.run(() => usePolling(task, { intervalMs: 1000 }))!
    runs[0]!.finish()
    await vi.advanceTimersByTimeAsync(1000)
    expect(runs).toHaveLength(2)
    scope.stop() // what unmounting the page does
    expect(runs[1]!.signal.aborted).toBe(true)
    expect(polling.active.value).toBe(false)
    runs[1]!.finish()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(runs).toHaveLength(2)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('stop() between runs cancels the waiting one', async () => {
    const { runs, task } = slowTask()
    const scope = effectScope()
    const polling = scope.run(() => usePolling(task, { intervalMs: 1000 }))!
    runs[0]!.finish()
    await vi.advanceTimersByTimeAsync(0)
    expect(vi.getTimerCount()).toBe(1)
    polling.stop()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(5000)
    expect(runs).toHaveLength(1)
    scope.stop()
  })

  it('a manual refresh runs now, aborts a run in flight and restarts the wait', async () => {
    const { runs, task } = slowTask()
    const scope = effectScope()
    const polling = scope.run(() => usePolling(task, { intervalMs: 3000 }))!
    void polling.refresh()
    expect(runs).toHaveLength(2)
    expect(runs[0]!.signal.aborted).toBe(true)
    runs[0]!.finish() // the aborted run ending late schedules nothing
    runs[1]!.finish()
    await vi.advanceTimersByTimeAsync(2000)
    void polling.refresh()
    expect(runs).toHaveLength(3)
    runs[2]!.finish()
    await vi.advanceTimersByTimeAsync(2999) // counted from the refresh, not the earlier run
    expect(runs).toHaveLength(3)
    await vi.advanceTimersByTimeAsync(1)
    expect(runs).toHaveLength(4)
    expect(vi.getTimerCount()).toBe(0) // one pending run and its wait, nothing else
    scope.stop()
  })

  it('waits for start() when not immediate, and start() twice polls once', async () => {
    const { runs, task } = slowTask()
    const scope = effectScope()
    const polling = scope.run(() => usePolling(task, { intervalMs: 1000, immediate: false }))!
    await vi.advanceTimersByTimeAsync(5000)
    expect(runs).toHaveLength(0)
    void polling.start()
    void polling.start()
    expect(runs).toHaveLength(1)
    scope.stop()
  })
})

describe('the event browser filters', () => {
  it('come from the URL query and go back to it without the empty ones', () => {
    expect(filtersFromQuery({ type: 'usercenter.user.registered', subject: ' users/42 ', x: '1' })).toEqual({
      type: 'usercenter.user.registered',
      subject: 'users/42',
    })
    expect(filtersFromQuery({ type: ['a', 'b'], subject: null })).toEqual({ type: 'a', subject: '' })
    expect(filtersFromQuery({})).toEqual({ type: '', subject: '' })
    expect(queryOfFilters({ type: '', subject: 'users/7 ' })).toEqual({ subject: 'users/7' })
    expect(queryOfFilters({ type: '  ', subject: '' })).toEqual({})
  })

  it('count a cleared select as no filter', () => {
    expect(cleanFilters({ type: undefined, subject: null })).toEqual({ type: '', subject: '' })
  })

  it('link a users/<id> subject to the user, nothing else', () => {
    expect(userIdOfSubject('users/42')).toBe('42')
    expect(userIdOfSubject('accounts/42')).toBeNull()
    expect(userIdOfSubject('users/42/x')).toBeNull()
    expect(userIdOfSubject('users/')).toBeNull()
  })

  it('show the data indented', () => {
    expect(prettyData({ user_id: 42, uid: 'GD000001' })).toBe('{\n  "user_id": 42,\n  "uid": "GD000001"\n}')
  })
})
