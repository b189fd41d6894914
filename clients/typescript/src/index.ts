// PLACEHOLDER for the console scaffold until the client helper's package (branch i13-client)
// lands: the same public API (createClient, ProblemError, Paths, Schemas) over fetch with a
// loose `paths` type. Replaced wholesale by the client helper's file at merge.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any

export type paths = Record<string, Loose>
export type components = { schemas: Record<string, Loose> }
export type Paths = paths
export type Schemas = components['schemas']

export interface ProblemItem {
  field: string
  code: string
  message: string
}

export class ProblemError extends Error {
  status: number
  code: string
  title: string
  detail?: string
  requestId?: string
  errors: ProblemItem[]

  constructor(status: number, body: Record<string, unknown> | null) {
    const title = typeof body?.title === 'string' ? body.title : `HTTP ${status}`
    super(title)
    this.name = 'ProblemError'
    this.status = status
    this.title = title
    this.code = typeof body?.code === 'string' ? body.code : `http_${status}`
    this.detail = typeof body?.detail === 'string' ? body.detail : undefined
    this.requestId = typeof body?.request_id === 'string' ? body.request_id : undefined
    this.errors = Array.isArray(body?.errors) ? (body.errors as ProblemItem[]) : []
  }
}

export interface ClientOptions {
  baseUrl?: string
  getToken?: () => string | null | undefined
  refresh?: () => Promise<string | null>
  onUnauthorized?: (problem: ProblemError) => void
  language?: () => string
  fetch?: typeof fetch
}

export interface RequestInit_ {
  params?: { path?: Record<string, unknown>; query?: Record<string, unknown> }
  body?: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Call = (path: string, init?: RequestInit_) => Promise<Loose>
export type Client = Record<Method, Call>

function buildUrl(baseUrl: string, path: string, init?: RequestInit_): string {
  let url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(init?.params?.path?.[name] ?? '')),
  )
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(init?.params?.query ?? {})) {
    if (value === undefined || value === null || value === '') continue
    if (Array.isArray(value)) value.forEach((v) => query.append(key, String(v)))
    else query.append(key, String(value))
  }
  const qs = query.toString()
  if (qs) url += `?${qs}`
  return baseUrl.replace(/\/$/, '') + url
}

export function createClient(options: ClientOptions = {}): Client {
  const doFetch = options.fetch ?? ((...a: Parameters<typeof fetch>) => globalThis.fetch(...a))
  let refreshing: Promise<string | null> | null = null

  async function send(method: Method, path: string, init?: RequestInit_, token?: string | null) {
    const headers: Record<string, string> = { Accept: 'application/json', ...init?.headers }
    const bearer = token ?? options.getToken?.()
    if (bearer) headers.Authorization = `Bearer ${bearer}`
    if (options.language) headers['Accept-Language'] = options.language()
    let body: string | undefined
    if (init?.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(init.body)
    }
    return doFetch(buildUrl(options.baseUrl ?? '', path, init), {
      method,
      headers,
      body,
      signal: init?.signal,
    })
  }

  async function call(method: Method, path: string, init?: RequestInit_): Promise<Loose> {
    let response = await send(method, path, init)
    if (response.status === 401 && options.refresh) {
      refreshing ??= options.refresh().finally(() => {
        refreshing = null
      })
      const token = await refreshing
      if (token) response = await send(method, path, init, token)
    }
    if (response.status === 204) return undefined
    const text = await response.text()
    let parsed: unknown = null
    try {
      parsed = text ? JSON.parse(text) : null
    } catch {
      parsed = null
    }
    if (!response.ok) {
      const problem = new ProblemError(response.status, parsed as Record<string, unknown> | null)
      if (response.status === 401) options.onUnauthorized?.(problem)
      throw problem
    }
    return parsed ?? undefined
  }

  const client = {} as Client
  for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as Method[]) {
    client[m] = (path, init) => call(m, path, init)
  }
  return client
}
