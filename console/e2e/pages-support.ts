// What the pages' browser tests share on top of the shell's harness: staff API calls with a
// bearer token, authenticator codes that respect the server's "each 30-second step once" rule,
// staff enrolment through the API, and a user created through the public API.
import { createHmac } from 'node:crypto'
import type { Page } from '@playwright/test'
import { expect } from '@playwright/test'

// --- RFC 6238 codes, one step at a time ---

function base32(secret: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(ch)
    if (v < 0) throw new Error(`not base32: ${ch}`)
    bits += v.toString(2).padStart(5, '0')
  }
  const bytes: number[] = []
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(bytes)
}

export function codeAt(secret: string, step: number): string {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const mac = createHmac('sha1', base32(secret)).update(counter).digest()
  const offset = mac[mac.length - 1]! & 0x0f
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000
  return String(n).padStart(6, '0')
}

const nowStep = (): number => Math.floor(Date.now() / 30_000)
const lastStep = new Map<string, number>()

/** A code the server takes for `who`: a step it has not seen (it accepts now ±1 and refuses a
 * step already used), waiting for the clock when the next free one is still in the future. */
export async function freshCode(who: string, secret: string): Promise<string> {
  const step = Math.max(nowStep() - 1, (lastStep.get(who) ?? 0) + 1)
  const waitMs = (step - 1) * 30_000 - Date.now() + 200
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs))
  lastStep.set(who, step)
  return codeAt(secret, step)
}

// --- the staff API ---

export class Staff {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly id: string,
  ) {}

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }
}

/** The staff session a logged-in console page holds (no second login, no TOTP step spent). */
export async function staffOfPage(page: Page, baseUrl: string): Promise<Staff> {
  const stored = await page.evaluate(() => localStorage.getItem('uc.console.session'))
  if (!stored) throw new Error('the page is not logged in')
  const token = (JSON.parse(stored) as { token: string }).token
  const me = await new Staff(baseUrl, token, '').call<{ id: string }>('GET', '/v1/admin/me')
  return new Staff(baseUrl, token, me.id)
}

/** First login of a new staff account through the API: password, authenticator set-up and
 * confirmation. Answers the secret (the account then logs in with password + code). */
export async function enrolStaff(baseUrl: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/admin/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  const login = (await res.json()) as { access_token: string; totp_enrolment_required: boolean }
  if (!res.ok || !login.totp_enrolment_required) throw new Error(`enrol ${username}: ${res.status}`)
  const staff = new Staff(baseUrl, login.access_token, '')
  const { secret } = await staff.call<{ secret: string }>('POST', '/v1/admin/me/totp')
  await staff.call('POST', '/v1/admin/me/totp/confirm', { code: await freshCode(username, secret) })
  return secret
}

/** Logs in through the console's login page with a fresh code; lands on the redirect target. */
export async function uiLogin(
  page: Page,
  baseUrl: string,
  username: string,
  password: string,
  secret: string,
): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`)
  await page.getByTestId('login-username').locator('input').fill(username)
  await page.getByTestId('login-password').locator('input').fill(password)
  await page.getByTestId('login-submit').click()
  const code = page.getByTestId('login-code').locator('input')
  await code.waitFor()
  await code.fill(await freshCode(username, secret))
  await page.getByTestId('login-code-submit').click()
  await expect(page.getByTestId('shell-menu')).toBeVisible()
}

/** A new staff account made through the API, enrolled; answers its credentials. */
export async function makeStaff(
  admin: Staff,
  username: string,
  roles: string[],
): Promise<{ username: string; password: string; secret: string; id: string }> {
  const password = `Pw-${username}-2026!`
  const created = await admin.call<{ id: string }>('POST', '/v1/admin/staff', {
    username,
    password,
    roles,
  })
  const secret = await enrolStaff(admin.baseUrl, username, password)
  return { username, password, secret, id: created.id }
}

// --- users, through the public API ---

export interface UserSession {
  id: string
  uid: string
  accessToken: string
}

/** Registers a user with a username and password (the public route), logged in. */
export async function registerUser(baseUrl: string, username: string): Promise<UserSession> {
  const res = await fetch(`${baseUrl}/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: `User-${username}-pw1!` }),
  })
  const body = (await res.json()) as { access_token: string; user: { id: string; uid: string } }
  if (!res.ok) throw new Error(`register ${username}: ${res.status} ${JSON.stringify(body)}`)
  return { id: String(body.user.id), uid: String(body.user.uid), accessToken: body.access_token }
}

/** What GET /v1/me answers for this token (200 alive, 401 ended). */
export async function meStatus(baseUrl: string, token: string): Promise<number> {
  const res = await fetch(`${baseUrl}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
  return res.status
}

/** Clicks the OK button of the console's confirm dialog. */
export async function confirmDialog(page: Page): Promise<void> {
  await page.locator('.uc-confirm-ok').click()
}
