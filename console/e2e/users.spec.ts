// Users: search, the detail tabs masked until revealed (a logged action), and disabling a user
// or ending their sessions — which the user notices: their token stops working.
import { expect, test } from '@playwright/test'
import { openAs, root, url } from './harness'
import {
  confirmDialog,
  expectAudited,
  meStatus,
  registerUser,
  shot,
  userLogin,
  type UserSession,
} from './pages-support'

let user: UserSession

test.beforeAll(async () => {
  user = await registerUser('pagesu')
})

test('search finds a user by uid and opens the detail, masked until revealed', async ({ page }) => {
  await openAs(page, root(), '/users')
  await page.getByTestId('users-filter-uid').fill(user.uid)
  await page.getByTestId('users-search').click()
  const link = page.getByTestId(`users-open-${user.uid}`)
  await expect(link).toBeVisible()
  await expect(page.getByTestId('users-table').locator('tbody tr')).toHaveCount(1)
  await shot(page, 'users-list')

  await link.click()
  await expect(page).toHaveURL(url(`/users/${user.id}`))
  await expect(page.getByTestId('user-detail-uid')).toHaveText(user.uid)
  await expect(page.getByTestId('users-live-sessions')).toHaveText('1')
  await shot(page, 'users-detail-profile')

  await page.getByRole('tab', { name: '登录方式' }).click()
  await expect(page.getByTestId('users-identities')).toContainText('username')
  await page.getByRole('tab', { name: '会话' }).click()
  await expect(page.getByTestId('users-sessions').locator('tbody tr')).toHaveCount(1)
  await shot(page, 'users-detail-sessions')
  await page.getByRole('tab', { name: '登录记录' }).click()
  await expect(page.getByTestId('users-logins')).toContainText('注册')
  await shot(page, 'users-detail-logins')
  await page.getByRole('tab', { name: '钱包' }).click()
  await expect(page.getByTestId('wallet-balances')).toBeVisible()
  await shot(page, 'users-detail-wallet')

  // Revealing says it is logged, and it is.
  await expect(page.getByTestId('users-reveal')).toContainText('记录日志')
  await page.getByTestId('users-reveal').click()
  await expect(page.getByTestId('users-revealed-notice')).toBeVisible()
  await page.getByRole('tab', { name: '登录方式' }).click()
  await expect(page.getByTestId('users-identities')).toContainText(user.username)
  await shot(page, 'users-detail-revealed')
  await expectAudited(page, 'user.pii.view', user.id)
})

test('disabling a user ends their sessions; ending sessions logs them out', async ({ page }) => {
  expect(await meStatus(user.accessToken)).toBe(200)
  await openAs(page, root(), `/users/${user.id}`)
  await page.getByTestId('users-disable').click()
  await confirmDialog(page)
  await expect(page.getByTestId('user-detail-status')).toHaveText('已禁用')
  await expect(page.getByTestId('users-live-sessions')).toHaveText('0')
  expect(await meStatus(user.accessToken)).toBe(401)
  await shot(page, 'users-detail-disabled')

  await page.getByTestId('users-enable').click()
  await confirmDialog(page)
  await expect(page.getByTestId('user-detail-status')).toHaveText('正常')

  // A new session, ended from the console without disabling the account.
  const token = await userLogin(user)
  expect(await meStatus(token)).toBe(200)
  await page.reload()
  await expect(page.getByTestId('users-live-sessions')).toHaveText('1')
  await page.getByTestId('users-revoke-sessions').click()
  await confirmDialog(page)
  await expect(page.getByTestId('users-live-sessions')).toHaveText('0')
  expect(await meStatus(token)).toBe(401)

  // Each of these is in the admin log.
  await expectAudited(page, 'user.disable_user', user.id)
  await expectAudited(page, 'user.enable_user', user.id)
  await expectAudited(page, 'user.revoke_user_sessions', user.id)
  await shot(page, 'access-audit-users')
})

test('the users list walks keyset pages forward and back', async ({ page }) => {
  for (let i = 0; i < 21; i++) await registerUser('pagesp')
  await openAs(page, root(), '/users')
  const rows = page.getByTestId('users-table').locator('tbody tr')
  await expect(rows).toHaveCount(20)
  const firstUid = rows.first().locator('td').first()
  const firstOnPage1 = (await firstUid.innerText()).trim()
  await expect(page.getByTestId('users-pager-prev')).toBeDisabled()
  await page.getByTestId('users-pager-next').click()
  await expect(page.getByTestId('users-pager-page')).toHaveText('第 2 页')
  await expect(firstUid).not.toHaveText(firstOnPage1)
  await page.getByTestId('users-pager-prev').click()
  await expect(page.getByTestId('users-pager-page')).toHaveText('第 1 页')
  await expect(firstUid).toHaveText(firstOnPage1)

  // A filter starts again from the first page.
  await page.getByTestId('users-pager-next').click()
  await expect(page.getByTestId('users-pager-page')).toHaveText('第 2 页')
  await page.getByTestId('users-filter-uid').fill(user.uid)
  await page.getByTestId('users-search').click()
  await expect(page.getByTestId('users-pager-page')).toHaveText('第 1 页')
  await expect(rows).toHaveCount(1)
})
