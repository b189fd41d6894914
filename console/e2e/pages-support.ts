// What the pages' browser tests add to the shell's harness: users made through the public API,
// the console's confirm dialog, and reading the admin log through its page.
import type { Page } from '@playwright/test'
import { expect } from '@playwright/test'
import { apiAs, baseUrl, screenshot, unique, url } from './harness'

export interface UserSession {
  id: string
  uid: string
  username: string
  password: string
  accessToken: string
}

/** A user registered through the public API (username + password), logged in. */
export async function registerUser(prefix = 'u'): Promise<UserSession> {
  const username = unique(prefix).replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)
  const password = `User-${username}-pw1!`
  const answer = await apiAs().post('/v1/auth/register', { username, password })
  return {
    id: String(answer.user.id),
    uid: String(answer.user.uid),
    username,
    password,
    accessToken: answer.access_token as string,
  }
}

/** Another session of the same user (a password login). */
export async function userLogin(user: UserSession): Promise<string> {
  const answer = await apiAs().post('/v1/auth/password-login', {
    login: user.username,
    password: user.password,
  })
  return answer.access_token as string
}

/** What GET /v1/me answers to this user token: 200 while the session lives, 401 once ended. */
export async function meStatus(token: string): Promise<number> {
  const response = await fetch(`${baseUrl()}/v1/me`, {
    headers: { Authorization: `Bearer ${token}` },
  })
  return response.status
}

/** Clicks OK in the console's confirm dialog (ConfirmButton). */
export async function confirmDialog(page: Page): Promise<void> {
  const ok = page.locator('.uc-confirm-ok')
  await ok.waitFor()
  await ok.click()
  await ok.waitFor({ state: 'detached' })
}

/** Opens the admin log filtered by `action` (and the target id when given) and expects at
 * least one row of it. */
export async function expectAudited(page: Page, action: string, targetId?: string): Promise<void> {
  // Navigate only when elsewhere: leaving a page whose session check is still in flight makes
  // the shell's guard clear the stored session (a fetch aborted by navigation counts as failed).
  if (!page.url().endsWith('/admin/access/audit')) await page.goto(url('/access/audit'))
  await page.getByTestId('access-audit-reset').waitFor()
  await page.getByTestId('access-audit-target-id').fill('')
  await page.getByTestId('access-audit-action').fill(action)
  if (targetId) await page.getByTestId('access-audit-target-id').fill(targetId)
  await page.getByTestId('access-audit-search').click()
  await expect(page.getByTestId(`access-audit-row-${action}`).first()).toBeVisible()
}

/** A user's POST with an Idempotency-Key (money routes want one). */
export async function userPost(token: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(baseUrl() + path, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${token}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': unique('e2e'),
    },
    body: JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : null
}

/** A screenshot once the page's lists have loaded (no loading mask showing) and toasts faded. */
export async function shot(page: Page, name: string): Promise<void> {
  await expect(page.locator('.el-loading-mask:visible')).toHaveCount(0)
  await screenshot(page, name)
}
