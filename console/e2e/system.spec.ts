// System: dictionaries (types on the left, entries on the right), configuration edited with an
// editor of its type, client apps whose secret is write-only.
import { expect, test } from '@playwright/test'
import { openAs, root, rootApi } from './harness'
import { confirmDialog, expectAudited, shot } from './pages-support'

const suffix = String(Date.now() % 100000)

test('dictionaries: add a type and an entry, edit it, delete it', async ({ page }) => {
  const type = `E2E_COLOR_${suffix}`
  await openAs(page, root(), '/system/dictionaries')
  await page.getByTestId('system-dict-new-type').click()
  await page.getByTestId('system-dict-type').fill(type)
  await page.getByTestId('system-dict-code').fill('red')
  await page.getByTestId('system-dict-name').fill('红色')
  await page.getByTestId('system-dict-value').fill('#f00')
  await page.getByTestId('system-dict-save').click()
  await expect(page.getByTestId(`system-dict-type-${type}`)).toBeVisible()
  await expect(page.getByTestId('system-dict-row-red')).toBeVisible()

  await page.getByTestId('system-dict-edit-red').click()
  await page.getByTestId('system-dict-name').fill('大红')
  await page.getByTestId('system-dict-save').click()
  await expect(page.getByTestId('system-dict-entries')).toContainText('大红')
  await shot(page, 'system-dictionaries')

  await page.getByTestId('system-dict-delete-red').click()
  await confirmDialog(page)
  await expect(page.getByTestId('system-dict-row-red')).toHaveCount(0)
})

test('configuration: a string entry saved through its editor', async ({ page }) => {
  await openAs(page, root(), '/system/config')
  const input = page.getByTestId('system-config-value-site_name')
  await input.fill(`E2E 用户中心 ${suffix}`)
  await page.getByTestId('system-config-save-site_name').click()
  await expect
    .poll(async () => {
      const entries = (await (await rootApi()).get('/v1/admin/config')) as { key: string; value: unknown }[]
      return entries.find((e) => e.key === 'site_name')?.value
    })
    .toBe(`E2E 用户中心 ${suffix}`)
  await shot(page, 'system-config')
  await expectAudited(page, 'config.set_config')
})

test('client apps: the secret is write-only (set / not set), empty keeps it', async ({ page }) => {
  const appId = `wxe2e${suffix}`
  await openAs(page, root(), '/system/client-apps')
  await page.getByTestId('system-app-new').click()
  await page.getByTestId('system-app-appid').fill(appId)
  await page.getByTestId('system-app-name').fill('E2E 小程序')
  await page.getByTestId('system-app-secret').fill('e2e-secret-value-123')
  await page.getByTestId('system-app-save').click()
  const row = page.getByTestId('system-apps').locator('tbody tr', { has: page.getByTestId(`system-app-row-${appId}`) })
  await expect(row).toContainText('已设置')
  await expect(page.getByTestId('system-apps')).not.toContainText('e2e-secret-value-123')

  // Edit the name, leave the secret empty: it stays set.
  await page.getByTestId(`system-app-edit-${appId}`).click()
  await expect(page.getByTestId('system-app-secret')).toHaveValue('')
  await page.getByTestId('system-app-name').fill('E2E 小程序（改名）')
  await page.getByTestId('system-app-save').click()
  await expect(row).toContainText('E2E 小程序（改名）')
  await expect(row).toContainText('已设置')
  const apps = (await (await rootApi()).get('/v1/admin/client-apps')) as {
    app_id: string
    secret_set: boolean
    name: string
  }[]
  expect(apps.find((a) => a.app_id === appId)).toMatchObject({ secret_set: true, name: 'E2E 小程序（改名）' })
  await shot(page, 'system-client-apps')
  await expectAudited(page, 'client_app.create_client_app')
})
