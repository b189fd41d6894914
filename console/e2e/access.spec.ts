// Access: the super admin makes a narrow role in the roles page (only the Users menu and
// user:view) and an operator holding it in the staff page; the operator's menu and buttons
// follow it and a typed-in URL outside it shows 403. The permission tree is edited in place.
import { expect, test, type Page } from '@playwright/test'
import {
  createStaff,
  enrol,
  loginAs,
  openAs,
  root,
  rootApi,
  unique,
  url,
  type Account,
} from './harness'
import { confirmDialog, expectAudited, registerUser, shot } from './pages-support'

const roleCode = unique('viewer').toLowerCase().replace(/[^a-z0-9_]/g, '_')
const username = unique('op')
const password = 'Op-e2e-Pass-4821!'
let operator: Account

function treeCheckbox(page: Page, code: string) {
  return page
    .locator('.el-tree-node__content', { has: page.getByTestId(`access-role-perm-${code}`) })
    .locator('.el-checkbox')
    .first()
}

test('a narrow role and an operator holding it, made in the pages', async ({ page }) => {
  await openAs(page, root(), '/access/roles')
  await page.getByTestId('access-role-new').click()
  await page.getByTestId('access-role-new-code').fill(roleCode)
  await page.getByTestId('access-role-new-name').fill('只看用户')
  await page.getByTestId('access-role-new-save').click()
  // The new role opens with its permission tree; ticking user:view ticks its menu too.
  await treeCheckbox(page, 'user:view').click()
  await expect(treeCheckbox(page, 'menu:user')).toHaveClass(/is-checked/)
  await expect(treeCheckbox(page, 'user:disable')).not.toHaveClass(/is-checked/)
  await page.getByTestId('access-role-save').click()
  await expect
    .poll(async () => {
      const roles = (await (await rootApi()).get('/v1/admin/roles')) as {
        code: string
        permissions: string[]
      }[]
      return roles.find((r) => r.code === roleCode)?.permissions.sort()
    })
    .toEqual(['menu:user', 'user:view'])
  await shot(page, 'access-roles')

  await page.goto(url('/access/staff'))
  await page.getByTestId('access-staff-new').click()
  await page.getByTestId('access-staff-username').fill(username)
  await page.getByTestId('access-staff-password').fill(password)
  await page.getByTestId('access-staff-display').fill('只读运营')
  await page.getByTestId('access-staff-roles').click()
  await page.getByTestId(`access-staff-role-${roleCode}`).click()
  await page.getByTestId('access-staff-display').click() // closes the options
  await page.getByTestId('access-staff-save').click()
  await expect(page.getByTestId(`access-staff-row-${username}`)).toBeVisible()
  await shot(page, 'access-staff')

  await page.getByTestId(`access-staff-grants-${username}`).click()
  await expect(page.getByTestId('access-grants')).toContainText(roleCode)
  await shot(page, 'access-grants')

  await expectAudited(page, 'role.create_role')
  await expectAudited(page, 'role.update_role')
  await expectAudited(page, 'staff.create_staff')
  await shot(page, 'access-audit')
})

test("the operator's menu, buttons and URLs follow the narrow role", async ({ browser }) => {
  operator = await enrol(username, password)
  const someone = await registerUser('pagesa')
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 }, locale: 'zh-CN' })
  const page = await context.newPage()
  await loginAs(page, operator, '/users')

  await expect(page.getByTestId('shell-menu-users')).toBeVisible()
  for (const hidden of ['shell-menu-dashboard', 'shell-menu-access', 'shell-menu-wallet', 'shell-menu-system']) {
    await expect(page.getByTestId(hidden)).toHaveCount(0)
  }
  await expect(page.getByTestId('users-table')).toBeVisible()
  await shot(page, 'access-operator-users')

  await page.goto(url(`/users/${someone.id}`))
  await expect(page.getByTestId('user-detail-uid')).toHaveText(someone.uid)
  for (const absent of ['users-disable', 'users-reveal', 'users-revoke-sessions']) {
    await expect(page.getByTestId(absent)).toHaveCount(0)
  }
  // Wallet is not theirs: no wallet tab either.
  await expect(page.getByRole('tab', { name: '钱包' })).toHaveCount(0)
  await shot(page, 'access-operator-user-detail')

  await page.goto(url('/wallet/adjustments'))
  await expect(page.getByTestId('shell-forbidden')).toBeVisible()
  await expect(page).toHaveURL(url('/wallet/adjustments'))
  await shot(page, 'access-operator-403')
  await context.close()
})

test('the permission tree: add a button under a menu, rename it, move it, disable it', async ({ page }) => {
  const code = `user:e2e_${Date.now() % 100000}`
  await openAs(page, root(), '/access/permissions')
  await page.getByTestId('access-perm-node-menu:user').click()
  await page.getByTestId('access-perm-add-child').click()
  await page.getByTestId('access-perm-new-code').fill(code)
  await page.getByTestId('access-perm-new-name').fill('导出用户')
  await page.getByTestId('access-perm-new-save').click()
  const node = page.getByTestId(`access-perm-node-${code}`)
  await expect(node).toBeVisible()

  await page.getByTestId('access-perm-name').fill('导出用户列表')
  await page.getByTestId('access-perm-up').click()
  await expect(page.getByTestId('access-perm-down')).toBeEnabled()
  await page.getByTestId('access-perm-status').click()
  await page.getByTestId('access-perm-save').click()
  await expect(node).toContainText('导出用户列表')
  await expect(node).toContainText('停用')
  await shot(page, 'access-permissions')

  const tree = (await (await rootApi()).get('/v1/admin/permissions')) as {
    code: string
    children: { code: string; name: string; status: string }[]
  }[]
  const added = tree.find((n) => n.code === 'menu:user')?.children.find((c) => c.code === code)
  expect(added).toMatchObject({ name: '导出用户列表', status: 'disabled' })
  await expectAudited(page, 'role.create_permission')
  await expectAudited(page, 'role.update_permission')
})

test('staff accounts: disable and enable an account', async ({ page }) => {
  const other = await createStaff({ roles: ['operator'], enrolled: false })
  await openAs(page, root(), '/access/staff')
  await page.getByTestId(`access-staff-disable-${other.username}`).click()
  await confirmDialog(page)
  await expect(page.getByTestId(`access-staff-status-${other.username}`)).toHaveText('停用')
  await page.getByTestId(`access-staff-enable-${other.username}`).click()
  await confirmDialog(page)
  await expect(page.getByTestId(`access-staff-status-${other.username}`)).toHaveText('启用')
  await expectAudited(page, 'staff.set_staff_status')
})
