// The shell: login with TOTP (first-time enrolment with a QR code), the language switch, the
// session ending and coming back to the page, 403 for a forbidden URL, the dashboard's charts.
import { spawnSync } from 'node:child_process'
import { expect, test } from '@playwright/test'
import {
  apiAs,
  createRole,
  createStaff,
  ensurePermission,
  fillLogin,
  nextCode,
  openAs,
  readState,
  root,
  screenshot,
  tokenFor,
  unique,
  url,
} from './harness'

function redirectOf(address: string): string | null {
  const parsed = new URL(address)
  return parsed.pathname === '/admin/login' ? parsed.searchParams.get('redirect') : null
}

test.beforeAll(async () => {
  // The dashboard's nodes (added by a migration once the stats routes land; until then here).
  await ensurePermission({ code: 'menu:dashboard', name: '仪表盘', kind: 'menu', path: '/dashboard', sort_order: 5 })
  await ensurePermission({ code: 'stats:view', name: '查看统计', kind: 'api', parent: 'menu:dashboard' })
})

test('a new super admin sets up TOTP from the QR code at first login, then logs in with a code', async ({ page }) => {
  const state = readState()
  const username = unique('boss')
  const password = 'Boss-e2e-Pass-4471!'
  const made = spawnSync(state.bin, ['admin', 'create', '--username', username, '--password-stdin', '--role', 'super_admin'], {
    cwd: state.dir,
    env: { ...process.env, USERCENTER_DATABASE_URL: state.databaseUrl },
    input: `${password}\n`,
    encoding: 'utf8',
  })
  expect(made.status, made.stderr).toBe(0)

  await page.goto(url('/'))
  await expect(page).toHaveURL(/\/admin\/login/)
  await expect(page.locator('input[type="password"]')).toBeVisible()
  await screenshot(page, 'login')
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()

  const qr = page.getByTestId('login-qr')
  await expect(qr).toBeVisible()
  expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/)
  const secret = (await page.getByTestId('login-secret').textContent())?.trim() ?? ''
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/)
  await screenshot(page, 'login-enrol')
  await page.getByTestId('login-enrol-code').fill(await nextCode(username, secret))
  await page.getByTestId('login-enrol-submit').click()

  const codes = page.getByTestId('login-recovery-codes').locator('li')
  await expect(codes.first()).toBeVisible()
  expect(await codes.count()).toBeGreaterThanOrEqual(5)
  await screenshot(page, 'login-recovery-codes')
  await page.getByTestId('login-recovery-done').click()

  // Log in again: the password is remembered for this page, the code is asked.
  await page.getByTestId('login-code').fill(await nextCode(username, secret))
  await page.getByTestId('login-code-submit').click()
  await expect(page.getByTestId('shell-user')).toHaveText(username)
  await expect(page.getByTestId('dashboard-page')).toBeVisible()
  await screenshot(page, 'after-login')

  // A wrong code is refused with the server's message.
  await page.getByTestId('shell-logout').click()
  await expect(page).toHaveURL(/\/admin\/login/)
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
  await page.getByTestId('login-code').fill('000000')
  await page.getByTestId('login-code-submit').click()
  await expect(page.locator('.el-message--error')).toBeVisible()
  await expect(page).toHaveURL(/\/admin\/login/)
})

test('the language switch turns the console to English and back, and is remembered', async ({ page }) => {
  await openAs(page, root(), '/dashboard')
  await expect(page.getByTestId('shell-logout')).toHaveText('退出登录')
  await page.getByTestId('shell-language-button').click()
  await page.getByTestId('shell-language-en').click()
  await expect(page.getByTestId('shell-logout')).toHaveText('Sign out')
  await expect(page.locator('html')).toHaveAttribute('lang', 'en')
  await screenshot(page, 'dashboard-en')
  await page.reload()
  await expect(page.getByTestId('shell-logout')).toHaveText('Sign out')
  await page.getByTestId('shell-language-button').click()
  await page.getByTestId('shell-language-zh-CN').click()
  await expect(page.getByTestId('shell-logout')).toHaveText('退出登录')
})

test('when the session ends the console returns to login, then back to the page', async ({ page }) => {
  const role = unique('dash').toLowerCase()
  await createRole(role, ['menu:dashboard', 'stats:view'])
  const staff = await createStaff({ roles: [role] })
  await page.goto(url('/dashboard?range=30'))
  await expect(page).toHaveURL(/\/admin\/login\?redirect=/)
  await fillLogin(page, staff)
  await expect(page).toHaveURL(/\/admin\/dashboard\?range=30$/)

  // The session ends on the server (here: logged out elsewhere): the next call answers 401.
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('uc.console.session') ?? '{}').token as string)
  await apiAs(token).post('/v1/admin/auth/logout')
  await page.reload()
  await expect.poll(() => redirectOf(page.url())).toBe('/dashboard?range=30')
  await screenshot(page, 'session-ended')
  await fillLogin(page, staff, { recovery: true })
  await expect(page).toHaveURL(/\/admin\/dashboard\?range=30$/)
  await expect(page.getByTestId('dashboard-page')).toBeVisible()

  // The token's own expiry (the browser's clock moved past it) ends it too, without a call.
  await page.clock.install()
  await page.reload()
  await expect(page.getByTestId('dashboard-page')).toBeVisible()
  await page.clock.fastForward('25:00:00')
  await expect.poll(() => redirectOf(page.url())).toBe('/dashboard?range=30')
})

test('a URL the operator may not open shows 403 and keeps the address', async ({ page }) => {
  const role = unique('users_only').toLowerCase()
  await createRole(role, ['menu:user', 'user:view'])
  const staff = await createStaff({ roles: [role] })
  await openAs(page, staff, '/')
  await page.goto(url('/dashboard'))
  await expect(page.getByTestId('shell-forbidden')).toBeVisible()
  await expect(page).toHaveURL(url('/dashboard'))
  await expect(page.getByTestId('shell-menu-dashboard')).toHaveCount(0)
  await screenshot(page, 'forbidden')
  await page.goto(url('/no/such/page'))
  await expect(page.getByTestId('shell-not-found')).toBeVisible()
  await screenshot(page, 'not-found')
})

test('the dashboard draws its charts; time to the first chart', async ({ page }) => {
  // The page runs under its Content-Security-Policy (no inline script, no eval): nothing refused.
  const refused: string[] = []
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) refused.push(m.text())
  })
  // A fresh API session for root, then a cold page load of the dashboard.
  const token = await tokenFor(root())
  await page.goto(url('/login'))
  await page.evaluate((t) => localStorage.setItem('uc.console.session', JSON.stringify({ token: t, expiresAt: Date.now() + 3_600_000 })), token)
  await page.goto(url('/dashboard'))
  for (const chart of ['trend', 'logins', 'wallet']) {
    await expect(page.getByTestId(`dashboard-chart-${chart}`)).toHaveAttribute('data-rendered', 'true')
    await expect(page.getByTestId(`dashboard-chart-${chart}`).locator('canvas')).toHaveCount(1)
  }
  await expect(page.getByTestId('dashboard-pending-withdrawals')).toBeVisible()
  await expect(page.getByTestId('shell-menu-dashboard')).toBeVisible()
  const firstChart = await page.evaluate(() => performance.getEntriesByName('uc-first-chart')[0]?.startTime ?? -1)
  console.log(`time to the dashboard's first chart: ${Math.round(firstChart)} ms (target ≤ 1500)`)
  expect(firstChart).toBeGreaterThan(0)
  expect(firstChart).toBeLessThan(5000)
  await screenshot(page, 'dashboard')
  expect(refused).toEqual([])
})
