// Wallet: two finance operators carry a manual adjustment through the two-person rule (the
// applicant is never offered approve), the balance moves; a withdrawal is marked paid from the
// queue; sponsors are opened and suspended; the reconciliation report runs clean.
import { expect, test, type Browser, type Page } from '@playwright/test'
import { apiAs, createStaff, openAs, root, tokenFor, type Account } from './harness'
import {
  confirmDialog,
  expectAudited,
  registerUser,
  shot,
  userPost,
  type UserSession,
} from './pages-support'

let a: Account
let b: Account
let user: UserSession

test.beforeAll(async () => {
  a = await createStaff({ roles: ['finance'], displayName: 'Finance A' })
  b = await createStaff({ roles: ['finance'], displayName: 'Finance B' })
  user = await registerUser('pagesw')
})

async function pageOf(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, locale: 'zh-CN' })
  return context.newPage()
}

test('an adjustment filed by A is approved by B, never by A; the balance changes', async ({ page, browser }) => {
  // A files it.
  await openAs(page, a, '/wallet/adjustments')
  await page.getByTestId('wallet-adjust-new').click()
  await page.getByTestId('wallet-adjust-user').fill(user.id)
  await page.getByTestId('wallet-adjust-amount').fill('12.30')
  await page.getByTestId('wallet-adjust-reason').fill('e2e: compensation for a lost order')
  await page.getByTestId('wallet-adjust-submit').click()

  const api = apiAs(await tokenFor(a))
  let filed: { id: string; user_id: string; applied_by: string } | undefined
  await expect
    .poll(async () => {
      const pending = (await api.get('/v1/admin/wallet/adjustments', { status: 'PENDING' })) as {
        id: string
        user_id: string
        applied_by: string
      }[]
      filed = pending.find((x) => x.user_id === user.id)
      return filed?.applied_by
    })
    .toBe(a.id)
  const id = filed!.id

  // A holds wallet:adjust:approve, yet sees whose turn it is and no decision buttons.
  await expect(page.getByTestId(`wallet-adjust-turn-${id}`)).toHaveText('你提交的申请，等待其他人员审批')
  await expect(page.getByTestId(`wallet-adjust-approve-${id}`)).toHaveCount(0)
  await expect(page.getByTestId(`wallet-adjust-reject-${id}`)).toHaveCount(0)
  await shot(page, 'wallet-adjustments-applicant')

  // B approves.
  const pageB = await pageOf(browser)
  await openAs(pageB, b, '/wallet/adjustments')
  await expect(pageB.getByTestId(`wallet-adjust-turn-${id}`)).toContainText('轮到你审批')
  await shot(pageB, 'wallet-adjustments-approver')
  await pageB.getByTestId(`wallet-adjust-approve-${id}`).click()
  await pageB.getByTestId('wallet-decide-remark').fill('checked the order')
  await pageB.getByTestId('wallet-decide-confirm').click()
  // Decided: it leaves the pending queue, approved by B.
  await expect(pageB.getByTestId(`wallet-adjust-status-${id}`)).toHaveCount(0)
  const all = (await apiAs(await tokenFor(b)).get('/v1/admin/wallet/adjustments')) as {
    id: string
    status: string
    decided_by: string | null
  }[]
  expect(all.find((x) => x.id === id)).toMatchObject({ status: 'APPROVED', decided_by: b.id })

  // The balance moved.
  await pageB.goto(pageB.url().replace(/\/wallet\/adjustments.*$/, `/wallet/accounts?user=${user.id}`))
  await expect(pageB.getByTestId('wallet-balance-CNY')).toHaveText('12.30')
  await expect(pageB.getByTestId('wallet-entries')).toContainText('12.30')
  await shot(pageB, 'wallet-accounts-user')
  await pageB.context().close()

  // The admin log lists both halves.
  await openAs(page, root(), '/access/audit')
  await expectAudited(page, 'wallet.file_adjustment', id)
  await expectAudited(page, 'wallet.approve_adjustment', id)
  await shot(page, 'access-audit-wallet')
})

test('the withdrawals queue: a pending withdrawal is marked paid', async ({ page }) => {
  const me = apiAs(user.accessToken)
  const payout = await me.post('/v1/me/wallet/payout-accounts', {
    kind: 'ALIPAY',
    real_name: '张三',
    account: 'zhangsan@example.com',
  })
  const withdrawal = (await userPost(user.accessToken, '/v1/me/wallet/withdrawals', {
    payout_account_id: payout.id,
    amount: '5.00',
  })) as { id: string }
  await openAs(page, a, '/wallet/withdrawals')
  await expect(page.getByTestId('wallet-withdrawals')).toContainText(user.id)
  await shot(page, 'wallet-withdrawals')
  await page.getByTestId(`wallet-withdrawal-paid-${withdrawal.id}`).click()
  await page.getByTestId('wallet-settle-remark').fill('paid by Alipay')
  await page.getByTestId('wallet-settle-confirm').click()
  await expect(page.getByTestId(`wallet-withdrawal-paid-${withdrawal.id}`)).toHaveCount(0)
  const mine = (await me.get('/v1/me/wallet/withdrawals')) as { id: string; status: string }[]
  expect(mine.find((w) => w.id === withdrawal.id)?.status).toBe('PAID')
})

test('sponsors are opened and suspended; reconciliation runs clean', async ({ page }) => {
  await openAs(page, root(), '/wallet/sponsors')
  await page.getByTestId('wallet-sponsor-new').click()
  await page.getByTestId('wallet-sponsor-name').fill('E2E 赞助商')
  await page.getByTestId('wallet-sponsor-save').click()
  const row = page.getByTestId('wallet-sponsors').locator('tbody tr', { hasText: 'E2E 赞助商' })
  await expect(row).toContainText('正常')
  await row.getByRole('button', { name: '暂停' }).click()
  await confirmDialog(page)
  await expect(row).toContainText('已暂停')
  await shot(page, 'wallet-sponsors')

  await openAs(page, root(), '/wallet/reconciliation')
  await page.getByTestId('wallet-reconcile-run').click()
  await expect(page.getByTestId('wallet-reconcile-result')).toContainText('账目一致')
  await shot(page, 'wallet-reconciliation')
})
