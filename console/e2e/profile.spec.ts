// Profile (issue 15): extension keys declared on their page, and the user detail's change-log
// tab listing a change the user made through the API.
import { expect, test } from '@playwright/test'
import { baseUrl, openAs, root, rootApi } from './harness'
import { confirmDialog, registerUser, shot } from './pages-support'

const suffix = String(Date.now() % 100000)

async function userPatch(token: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(baseUrl() + path, {
    method: 'PATCH',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`PATCH ${path}: ${response.status} ${await response.text()}`)
}

test('extension keys: declare one, see it, make it user-editable, disable it', async ({ page }) => {
  const key = `e2e_school_${suffix}`
  await openAs(page, root(), '/users/extend-keys')
  await page.getByTestId('extend-keys-new').click()
  await page.getByTestId('extend-key-key').fill(key)
  await page.getByTestId('extend-key-label').fill('毕业学校')
  await page.getByTestId('extend-key-save').click()
  await expect(page.getByTestId(`extend-key-row-${key}`)).toBeVisible()
  await expect(page.getByTestId('extend-keys-table')).toContainText('毕业学校')
  await expect(page.getByTestId(`extend-key-status-${key}`)).toHaveText('启用')

  await page.getByTestId(`extend-key-edit-${key}`).click()
  await page.getByTestId('extend-key-editable').click()
  await page.getByTestId('extend-key-save').click()
  await expect
    .poll(async () => {
      const answer = (await (await rootApi()).get('/v1/admin/profile/extend-keys')) as {
        items: { key: string; is_user_editable: boolean }[]
      }
      return answer.items.find((k) => k.key === key)?.is_user_editable
    })
    .toBe(true)
  await shot(page, 'extend-keys')

  await page.getByTestId(`extend-key-toggle-${key}`).click()
  await confirmDialog(page)
  await expect(page.getByTestId(`extend-key-status-${key}`)).toHaveText('停用')
})

test('user detail: the change-log tab lists a change made through the API', async ({ page }) => {
  const key = `e2e_level_${suffix}`
  await (await rootApi()).post('/v1/admin/profile/extend-keys', {
    key,
    label: '等级',
    type: 'integer',
    is_user_editable: true,
  })
  const user = await registerUser('pagesc')
  await userPatch(user.accessToken, '/v1/me', { nickname: `改名${suffix}` })
  await userPatch(user.accessToken, '/v1/me/extends', { [key]: 3 })

  await openAs(page, root(), `/users/${user.id}`)
  await page.getByRole('tab', { name: '变更记录' }).click()
  const changes = page.getByTestId('users-changes')
  await expect(changes.getByTestId('users-change-nickname')).toHaveText('昵称')
  await expect(changes).toContainText(`改名${suffix}`)
  await expect(changes.getByTestId(`users-change-extends.${key}`)).toContainText(key)
  await expect(changes.locator('tbody tr')).toHaveCount(2)
  await shot(page, 'users-detail-changes')

  // Filtered by the attribute's prefix.
  await page.getByTestId('users-changes-attribute').fill('extends.')
  await page.getByTestId('users-changes-search').click()
  await expect(changes.locator('tbody tr')).toHaveCount(1)
  await expect(changes).toContainText('用户本人')
})
