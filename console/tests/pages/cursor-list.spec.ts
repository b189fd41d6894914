import { describe, expect, it } from 'vitest'
import { compactQuery, useCursorList, type CursorPage } from '@/composables/useCursorList'

interface Row {
  n: number
}

/** A fake server: rows 1..total (filtered by `odd`), keyset cursor = the last row's number. */
function server(total: number) {
  const calls: { cursor: string | null; limit: number; odd: boolean }[] = []
  const fetcher = async ({
    cursor,
    limit,
    filters,
  }: {
    cursor: string | null
    limit: number
    filters: { odd: boolean }
  }): Promise<CursorPage<Row>> => {
    calls.push({ cursor, limit, odd: filters.odd })
    const all = Array.from({ length: total }, (_, i) => ({ n: i + 1 })).filter(
      (r) => !filters.odd || r.n % 2 === 1,
    )
    const after = cursor === null ? 0 : Number(cursor)
    const rest = all.filter((r) => r.n > after)
    const items = rest.slice(0, limit)
    const more = rest.length > limit
    return { items, next_cursor: more ? String(items[items.length - 1]!.n) : null }
  }
  return { fetcher, calls }
}

const numbers = (rows: Row[]): number[] => rows.map((r) => r.n)

describe('useCursorList', () => {
  it('walks forward with the cursor the server gave and back through the stack', async () => {
    const { fetcher, calls } = server(7)
    const list = useCursorList(fetcher, { filters: { odd: false }, limit: 3 })
    await list.search()
    expect(numbers(list.items.value)).toEqual([1, 2, 3])
    expect(list.page.value).toBe(1)
    expect(list.hasPrev.value).toBe(false)
    expect(list.hasNext.value).toBe(true)

    await list.next()
    expect(numbers(list.items.value)).toEqual([4, 5, 6])
    await list.next()
    expect(numbers(list.items.value)).toEqual([7])
    expect(list.page.value).toBe(3)
    expect(list.hasNext.value).toBe(false)
    expect(await list.next()).toBe(false) // nothing after the last page

    await list.prev()
    expect(numbers(list.items.value)).toEqual([4, 5, 6])
    expect(list.page.value).toBe(2)
    await list.prev()
    expect(numbers(list.items.value)).toEqual([1, 2, 3])
    expect(list.hasPrev.value).toBe(false)
    expect(await list.prev()).toBe(false)
    // Going back asked for the cursors that opened those pages, not new ones.
    expect(calls.map((c) => c.cursor)).toEqual([null, '3', '6', '3', null])
  })

  it('starts a new stack when the filters are applied, and reset brings back the defaults', async () => {
    const { fetcher, calls } = server(10)
    const list = useCursorList(fetcher, { filters: { odd: false }, limit: 2 })
    await list.search()
    await list.next()
    expect(list.page.value).toBe(2)

    list.filters.odd = true
    // Typing into the form does not change what paging uses until search().
    await list.next()
    expect(calls[calls.length - 1]).toMatchObject({ odd: false })

    await list.search()
    expect(list.page.value).toBe(1)
    expect(numbers(list.items.value)).toEqual([1, 3])
    await list.next()
    expect(numbers(list.items.value)).toEqual([5, 7])

    await list.reset()
    expect(list.filters.odd).toBe(false)
    expect(list.page.value).toBe(1)
    expect(numbers(list.items.value)).toEqual([1, 2])
  })

  it('keeps the page it had when a load fails, and exposes the error', async () => {
    let fail = false
    const list = useCursorList<Row, Record<string, never>>(
      async ({ cursor }) => {
        if (fail) throw new Error('boom')
        return cursor === null
          ? { items: [{ n: 1 }], next_cursor: 'a' }
          : { items: [{ n: 2 }], next_cursor: null }
      },
      { filters: {} },
    )
    await list.search()
    fail = true
    expect(await list.next()).toBe(false)
    expect((list.error.value as Error).message).toBe('boom')
    expect(list.page.value).toBe(1)
    expect(numbers(list.items.value)).toEqual([1])
    expect(list.loading.value).toBe(false)
    fail = false
    await list.next()
    expect(list.error.value).toBeNull()
    expect(numbers(list.items.value)).toEqual([2])
  })

  it('ignores an older answer that arrives after a newer one', async () => {
    const pending: ((page: CursorPage<Row>) => void)[] = []
    const list = useCursorList<Row, { q: string }>(
      () => new Promise<CursorPage<Row>>((resolve) => pending.push(resolve)),
      { filters: { q: '' } },
    )
    const first = list.search()
    list.filters.q = 'x'
    const second = list.search()
    pending[1]!({ items: [{ n: 2 }], next_cursor: null })
    await second
    pending[0]!({ items: [{ n: 1 }], next_cursor: 'z' })
    await first
    expect(numbers(list.items.value)).toEqual([2])
    expect(list.hasNext.value).toBe(false)
    expect(list.loading.value).toBe(false)
  })

  it('takes a route that answers a plain array as a single page', async () => {
    const list = useCursorList<Row, Record<string, never>>(async () => [{ n: 1 }, { n: 2 }], {
      filters: {},
    })
    await list.search()
    expect(numbers(list.items.value)).toEqual([1, 2])
    expect(list.hasNext.value).toBe(false)
  })

  it('reload asks again for the page on screen', async () => {
    const { fetcher, calls } = server(5)
    const list = useCursorList(fetcher, { filters: { odd: false }, limit: 2 })
    await list.search()
    await list.next()
    await list.reload()
    expect(calls.map((c) => c.cursor)).toEqual([null, '2', '2'])
    expect(list.page.value).toBe(2)
  })
})

describe('compactQuery', () => {
  it('drops blanks and trims text', () => {
    expect(compactQuery({ a: ' x ', b: '', c: '  ', d: null, e: 0, f: false })).toEqual({
      a: 'x',
      e: 0,
      f: false,
    })
  })
})
