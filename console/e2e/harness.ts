// The e2e harness: a real `usercenter serve` on a fresh SQLite in a temp dir (started once by
// global-setup.ts for the whole run), the super admin `root` created with the CLI and enrolled
// in TOTP through the API, and helpers for specs: TOTP codes computed here, staff accounts and
// roles created through the API, logging in through the page, screenshots.
//
// TOTP: the server takes a code of the current 30 s step or its neighbours, and each step at
// most once per account, in increasing order. `nextCode` hands out the next unused step of an
// account (remembered in the run's state file, so a restarted worker knows), waiting for the
// clock only when the two steps ahead are used up.
import { createHmac } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from '@playwright/test'

export const E2E_DIR = dirname(fileURLToPath(import.meta.url))
export const OUTPUT_DIR = join(E2E_DIR, 'output')
export const STATE_FILE = join(OUTPUT_DIR, 'server.json')

export interface Account {
  username: string
  password: string
  secret: string
  recoveryCodes: string[]
  id?: string
}

export interface RunState {
  baseUrl: string
  dir: string
  pid: number
  bin: string
  databaseUrl: string
  root: Account
  lastStep: Record<string, number>
  tokens: Record<string, { token: string; expiresAt: number }>
}

export function readState(): RunState {
  return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as RunState
}

export function writeState(state: RunState): void {
  mkdirSync(OUTPUT_DIR, { recursive: true })
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2))
}

function update(change: (state: RunState) => void): RunState {
  const state = readState()
  change(state)
  writeState(state)
  return state
}

export function baseUrl(): string {
  return readState().baseUrl
}

export function root(): Account {
  return readState().root
}

// --- TOTP (RFC 6238, SHA-1, 6 digits, 30 s) ------------------------------------------------

function base32(secret: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const char of secret.replace(/=+$/, '').toUpperCase()) {
    const value = alphabet.indexOf(char)
    if (value < 0) throw new Error(`not base32: ${char}`)
    bits += value.toString(2).padStart(5, '0')
  }
  const bytes: number[] = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

export function currentStep(now = Date.now()): number {
  return Math.floor(now / 1000 / 30)
}

/** The code of `secret` for a 30 s step (default: now). */
export function totp(secret: string, step = currentStep()): string {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', base32(secret)).update(counter).digest()
  const offset = (mac[mac.length - 1] as number) & 0x0f
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return value.toString().padStart(6, '0')
}

/** A code the server has not seen for this account: the current step, else the next one,
 * else (both used) the first step after waiting for the clock. */
export async function nextCode(username: string, secret: string): Promise<string> {
  for (;;) {
    const now = currentStep()
    const last = readState().lastStep[username] ?? -1
    const step = Math.max(now, last + 1)
    if (step <= now + 1) {
      update((s) => {
        s.lastStep[username] = step
      })
      return totp(secret, step)
    }
    const wait = (now + 1) * 30_000 - Date.now() + 200
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
}

// --- API --------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown> | null,
    what: string,
  ) {
    super(`${what}: ${status} ${JSON.stringify(body)}`)
  }
}

export interface Api {
  get<T = any>(path: string, query?: Record<string, string | number | boolean>): Promise<T>
  post<T = any>(path: string, body?: unknown): Promise<T>
  put<T = any>(path: string, body?: unknown): Promise<T>
  patch<T = any>(path: string, body?: unknown): Promise<T>
  delete<T = any>(path: string): Promise<T>
}

/** JSON calls as the holder of `token` (none: anonymous); a non-2xx rejects with ApiError. */
export function apiAs(token?: string | null): Api {
  async function call(method: string, path: string, body?: unknown) {
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (token) headers.Authorization = `Bearer ${token}`
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const response = await fetch(baseUrl() + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : null
    if (!response.ok) throw new ApiError(response.status, parsed, `${method} ${path}`)
    return parsed as any
  }
  return {
    get: (path, query) =>
      call('GET', query ? `${path}?${new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]))}` : path),
    post: (path, body) => call('POST', path, body),
    put: (path, body) => call('PUT', path, body),
    patch: (path, body) => call('PATCH', path, body),
    delete: (path) => call('DELETE', path),
  }
}

/** A full staff session (password + code) through the API, reused while it lasts. */
export async function tokenFor(account: Account, fresh = false): Promise<string> {
  const cached = readState().tokens[account.username]
  if (!fresh && cached && cached.expiresAt > Date.now() + 60_000) return cached.token
  const code = await nextCode(account.username, account.secret)
  const answer = await apiAs().post('/v1/admin/auth/login', {
    username: account.username,
    password: account.password,
    totp_code: code,
  })
  update((s) => {
    s.tokens[account.username] = {
      token: answer.access_token,
      expiresAt: Date.now() + answer.expires_in * 1000,
    }
  })
  return answer.access_token as string
}

export async function rootApi(): Promise<Api> {
  return apiAs(await tokenFor(root()))
}

/** Password login, then set up the authenticator through the API: the account can log in. */
export async function enrol(username: string, password: string): Promise<Account> {
  const first = await apiAs().post('/v1/admin/auth/login', { username, password })
  if (!first.totp_enrolment_required) throw new Error(`${username} is already enrolled`)
  const me = apiAs(first.access_token)
  const { secret } = await me.post('/v1/admin/me/totp')
  const { recovery_codes } = await me.post('/v1/admin/me/totp/confirm', {
    code: await nextCode(username, secret),
  })
  await me.post('/v1/admin/auth/logout')
  return { username, password, secret, recoveryCodes: recovery_codes, id: first.staff.id }
}

let counter = 0
/** A name unique in this run: `<prefix>_<n>`. */
export function unique(prefix: string): string {
  counter += 1
  return `${prefix}_${process.pid % 10000}_${Date.now() % 100000}_${counter}`
}

/** A staff role holding `permissions` (codes), created by root. */
export async function createRole(code: string, permissions: string[], name = code): Promise<void> {
  await (await rootApi()).post('/v1/admin/roles', { code, name, audience: 'staff', permissions })
}

/** A staff account with `roles` (held everywhere), created by root through the API and enrolled
 * in TOTP unless `enrolled: false`. */
export async function createStaff(options: {
  username?: string
  password?: string
  roles: string[]
  displayName?: string
  enrolled?: boolean
}): Promise<Account> {
  const username = options.username ?? unique('staff')
  const password = options.password ?? `Pw-${unique('x')}-e2e!`
  const created = await (await rootApi()).post('/v1/admin/staff', {
    username,
    password,
    display_name: options.displayName ?? null,
    roles: options.roles,
  })
  if (options.enrolled === false) {
    return { username, password, secret: '', recoveryCodes: [], id: created.id }
  }
  return { ...(await enrol(username, password)), id: created.id }
}

/** Adds a permission node unless the tree already has it (super_admin gets new nodes). */
export async function ensurePermission(node: {
  code: string
  name: string
  kind: 'menu' | 'button' | 'api'
  parent?: string
  path?: string
  sort_order?: number
}): Promise<void> {
  const api = await rootApi()
  const tree = (await api.get('/v1/admin/permissions')) as { id: number; code: string; children: unknown[] }[]
  const all: { id: number; code: string }[] = []
  const walk = (nodes: { id: number; code: string; children: unknown[] }[]) => {
    for (const n of nodes) {
      all.push(n)
      walk(n.children as typeof nodes)
    }
  }
  walk(tree)
  if (all.some((n) => n.code === node.code)) return
  const parent = node.parent ? all.find((n) => n.code === node.parent) : undefined
  await api.post('/v1/admin/permissions', {
    code: node.code,
    name: node.name,
    kind: node.kind,
    parent_id: parent?.id ?? null,
    path: node.path ?? null,
    sort_order: node.sort_order ?? 0,
  })
}

// --- the browser ------------------------------------------------------------------------------

export function url(path: string): string {
  return `${baseUrl()}/admin${path.startsWith('/') ? path : `/${path}`}`
}

/** Logs in through the login page (password, then a fresh code) and waits for the layout. */
export async function loginAs(page: Page, account: Account, path = '/'): Promise<void> {
  await page.goto(url(`/login?redirect=${encodeURIComponent(path)}`))
  await fillLogin(page, account)
  await page.getByTestId('shell-user').waitFor()
}

/** On the login page: username, password, then the code (or, with `recovery`, one of the
 * account's recovery codes: no TOTP step spent, no wait). */
export async function fillLogin(
  page: Page,
  account: Account,
  options: { recovery?: boolean } = {},
): Promise<void> {
  await page.getByTestId('login-username').fill(account.username)
  await page.getByTestId('login-password').fill(account.password)
  await page.getByTestId('login-submit').click()
  if (options.recovery) {
    const code = account.recoveryCodes.shift()
    if (!code) throw new Error(`${account.username} has no recovery code left`)
    await page.getByTestId('login-toggle-recovery').click()
    await page.getByTestId('login-recovery').fill(code)
  } else {
    await page.getByTestId('login-code').fill(await nextCode(account.username, account.secret))
  }
  await page.getByTestId('login-code-submit').click()
}

/** Opens `path` already logged in as `account` (an API session put where the console keeps it):
 * fast, and spares TOTP steps. */
export async function openAs(page: Page, account: Account, path = '/'): Promise<void> {
  const token = await tokenFor(account)
  await page.goto(url('/login'))
  await page.evaluate(
    ([t]) =>
      localStorage.setItem(
        'uc.console.session',
        JSON.stringify({ token: t, expiresAt: Date.now() + 3_600_000 }),
      ),
    [token],
  )
  await page.goto(url(path))
  await page.getByTestId('shell-user').waitFor()
}

/** A full-page screenshot as console/e2e/output/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(OUTPUT_DIR, { recursive: true })
  await page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage: true })
}
