// Real-name verification: a user submits one through the public API; a reviewer (a staff member
// holding user:verify:review, not user:pii:view) finds it in the queue, sees it masked, approves
// it in the page — and the user's own status turns approved. A second one is rejected with a
// reason the user then reads.
import { expect, test } from '@playwright/test'
import { createRole, createStaff, openAs, unique, url, type Account } from './harness'
import { registerUser, confirmDialog, shot, userPost, type UserSession } from './pages-support'
import { baseUrl } from './harness'

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

/** A resident ID card number with its GB 11643 check character, different on every run. */
function idNumber(): string {
  const seed = (process.pid * 7919 + Date.now()) % 1_000_000
  const month = String((seed % 12) + 1).padStart(2, '0')
  const day = String((seed % 28) + 1).padStart(2, '0')
  const body = `440106${1960 + (seed % 40)}${month}${day}${String(seed % 1000).padStart(3, '0')}`
  const total = [...body].reduce((sum, d, i) => sum + Number(d) * WEIGHTS[i]!, 0)
  return body + '10X98765432'[total % 11]
}

async function myStatus(user: UserSession): Promise<{ status: string; reason: string | null }> {
  const response = await fetch(`${baseUrl()}/v1/me/verification`, {
    headers: { Authorization: `Bearer ${user.accessToken}` },
  })
  return (await response.json()) as { status: string; reason: string | null }
}

async function submit(user: UserSession, number: string): Promise<string> {
  const answer = (await userPost(user.accessToken, '/v1/me/verification', {
    real_name: '张三丰',
    document_type: 'id_card',
    document_number: number,
    photo_front: 'verify/e2e/front.jpg',
  })) as { id: number }
  return String(answer.id)
}

let reviewer: Account

test.beforeAll(async () => {
  const role = unique('verify_reviewer')
  await createRole(role, ['menu:user', 'user:view', 'user:verify:review'])
  reviewer = await createStaff({ roles: [role] })
})

test('a reviewer approves a pending verification in the page and the user sees it', async ({ page }) => {
  const user = await registerUser('verifya')
  const number = idNumber()
  const id = await submit(user, number)
  expect((await myStatus(user)).status).toBe('pending')

  await openAs(page, reviewer, '/verifications')
  const open = page.getByTestId(`verification-open-${id}`)
  await expect(open).toBeVisible()
  await expect(page.getByTestId('verification-table')).not.toContainText(number)
  await shot(page, 'verification-queue')

  await open.click()
  await expect(page).toHaveURL(url(`/verifications/${id}`))
  await expect(page.getByTestId('verification-status')).toHaveText('待审核')
  await expect(page.getByTestId('verification-name')).toHaveText('张**')
  await expect(page.getByTestId('verification-number')).toHaveText(`440***********${number.slice(-4)}`)
  // Without user:pii:view there is no way to the whole number.
  await expect(page.getByTestId('verification-reveal')).toHaveCount(0)
  await shot(page, 'verification-detail')

  await page.getByTestId('verification-approve').click()
  await confirmDialog(page)
  await expect(page.getByTestId('verification-status')).toHaveText('已通过')
  await expect(page.getByTestId('verification-approve')).toHaveCount(0)
  expect((await myStatus(user)).status).toBe('approved')
})

test('a rejection needs a reason, which the user then reads', async ({ page }) => {
  const user = await registerUser('verifyb')
  const id = await submit(user, idNumber())
  await openAs(page, reviewer, `/verifications/${id}`)
  await page.getByTestId('verification-reject').click()
  await page.getByTestId('verification-reject-reason').fill('照片不清晰')
  await page.getByTestId('verification-reject-confirm').click()
  await expect(page.getByTestId('verification-status')).toHaveText('已驳回')
  await expect(page.getByTestId('verification-reason')).toHaveText('照片不清晰')
  expect(await myStatus(user)).toMatchObject({ status: 'rejected', reason: '照片不清晰' })
})
