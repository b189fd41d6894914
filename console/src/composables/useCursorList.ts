import { reactive, ref, shallowRef, computed, type Ref, type UnwrapRef } from 'vue'

/** One keyset page as every staff list answers it. */
export interface CursorPage<T> {
  items: T[]
  next_cursor: string | null
}

export interface PageRequest<F> {
  cursor: string | null
  limit: number
  filters: F
}

/** Loads one page. A route that answers a plain array (no keyset yet) is one page. */
export type PageFetcher<T, F> = (request: PageRequest<F>) => Promise<CursorPage<T> | T[]>

export interface CursorListOptions<F> {
  /** The filters' starting values; `reset()` goes back to them. */
  filters: F
  limit?: number
}

/** Drops empty strings and nulls: what a filter form leaves blank is not sent. */
export function compactQuery<F extends object>(filters: F): Partial<F> {
  const out: Partial<F> = {}
  for (const [key, value] of Object.entries(filters) as [keyof F, F[keyof F]][]) {
    if (value === '' || value === null || value === undefined) continue
    if (typeof value === 'string') {
      const trimmed = value.trim()
      if (trimmed === '') continue
      out[key] = trimmed as F[keyof F]
    } else {
      out[key] = value
    }
  }
  return out
}

/**
 * A server-paginated list walked with keyset cursors. The server only knows "the page after
 * cursor X", so going back keeps a stack of the cursors that opened each visited page:
 * `stack[i]` opened page i (null for the first). Changing the filters starts a new stack.
 * A slower answer to an older request never overwrites a newer one.
 */
export function useCursorList<T, F extends object>(
  fetcher: PageFetcher<T, F>,
  options: CursorListOptions<F>,
) {
  const initial = { ...options.filters }
  const filters = reactive({ ...options.filters }) as F
  const limit = ref(options.limit ?? 20)
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const loading = ref(false)
  const error = shallowRef<unknown>(null)
  const stack = ref<(string | null)[]>([null])
  const nextCursor = ref<string | null>(null)
  // The filters the current stack was built with (a half-typed form does not change paging).
  let applied = { ...filters } as F
  let ticket = 0

  const page = computed(() => stack.value.length)
  const hasPrev = computed(() => stack.value.length > 1)
  const hasNext = computed(() => nextCursor.value !== null)

  async function fetchAt(cursors: (string | null)[]): Promise<boolean> {
    const mine = ++ticket
    loading.value = true
    error.value = null
    try {
      const answer = await fetcher({
        cursor: cursors[cursors.length - 1] ?? null,
        limit: limit.value,
        filters: applied,
      })
      if (mine !== ticket) return false
      const pageOf: CursorPage<T> = Array.isArray(answer)
        ? { items: answer, next_cursor: null }
        : answer
      items.value = pageOf.items
      nextCursor.value = pageOf.next_cursor
      stack.value = cursors as UnwrapRef<typeof stack>
      return true
    } catch (e) {
      if (mine === ticket) error.value = e
      return false
    } finally {
      if (mine === ticket) loading.value = false
    }
  }

  /** Applies the filters as they are in the form and loads the first page. */
  function search(): Promise<boolean> {
    applied = { ...(filters as object) } as F
    return fetchAt([null])
  }

  /** Puts the filters back to their starting values and loads the first page. */
  function reset(): Promise<boolean> {
    Object.assign(filters as object, initial)
    return search()
  }

  function next(): Promise<boolean> {
    if (nextCursor.value === null || loading.value) return Promise.resolve(false)
    return fetchAt([...stack.value, nextCursor.value])
  }

  function prev(): Promise<boolean> {
    if (stack.value.length <= 1 || loading.value) return Promise.resolve(false)
    return fetchAt(stack.value.slice(0, -1))
  }

  /** Loads the current page again (after an action changed a row). */
  function reload(): Promise<boolean> {
    return fetchAt([...stack.value])
  }

  return {
    filters,
    items,
    loading,
    error,
    page,
    hasPrev,
    hasNext,
    limit,
    search,
    reset,
    next,
    prev,
    reload,
  }
}

export type CursorList<T, F extends object> = ReturnType<typeof useCursorList<T, F>>
