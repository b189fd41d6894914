// Profile (issue 15): the user detail's addresses, verification, consents and devices tabs. A
// user made through the public API adds an address, submits a real-name verification, grants a
// consent and reports a device; a super admin sees each tab masked; a staff member holding
// user:pii:view (and not the review permission) shows the address whole — a logged action.
import { expect, test, type Page } from '@playwright/test'
import { apiAs, createRole, createStaff, openAs, root, unique, url, type Account } from './harness'
import { registerUser, shot, userPost, type UserSession } from './pages-support'

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

const DETAIL = '天河路385号太古汇1座2801'

let user: UserSession
let addressId: string
let number: string
let viewer: Account

async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click()
}

test.beforeAll(async () => {
  user = await registerUser('profiletabs')
  const me = apiAs(user.accessToken)
  const address = await me.post('/v1/me/addresses', {
    receiver_name: '李四',
    receiver_phone: '13912345678',
    region_code: '440106',
    street: '石牌街道',
    detail: DETAIL,
    postcode: '510620',
    tag: 'home',
  })
  addressId = String(address.id)
  number = idNumber()
  await userPost(user.accessToken, '/v1/me/verification', {
    real_name: '张三丰',
    document_type: 'id_card',
    document_number: number,
  })
  await me.post('/v1/me/consents', { kind: 'marketing', granted: true })
  await me.put('/v1/me/device', {
    platform: 'APP',
    device_id: 'e2e-device-123456',
    vendor: 'Apple',
    model: 'iPhone15,2',
    os_name: 'iOS',
    os_version: '18.1',
    push_token: 'e2e-push-token-abcdef',
  })
  const role = unique('pii_viewer')
  await createRole(role, ['menu:user', 'user:view', 'user:pii:view'])
  viewer = await createStaff({ roles: [role] })
})

test('a super admin sees the addresses, verification, consents and devices tabs masked', async ({ page }) => {
  await openAs(page, root(), `/users/${user.id}`)

  await openTab(page, '收货地址')
  const addresses = page.getByTestId('users-addresses')
  await expect(page.getByTestId(`users-address-name-${addressId}`)).toContainText('李*')
  await expect(page.getByTestId(`users-address-phone-${addressId}`)).toContainText('139****5678')
  await expect(page.getByTestId(`users-address-region-${addressId}`)).toHaveText('广东省 广州市 天河区')
  await expect(page.getByTestId(`users-address-detail-${addressId}`)).toHaveText('石牌街*** 天河路***')
  await expect(page.getByTestId(`users-address-default-${addressId}`)).toBeVisible()
  await expect(addresses).toContainText('510620')
  await expect(addresses).toContainText('家')
  await expect(addresses).not.toContainText(DETAIL)
  await expect(addresses).not.toContainText('13912345678')
  await shot(page, 'users-detail-addresses')

  await openTab(page, '实名认证')
  await expect(page.getByTestId('users-verification-status')).toHaveText('待审核')
  await expect(page.getByTestId('users-verification-name')).toHaveText('张**')
  await expect(page.getByTestId('users-verification-number')).toHaveText(`440***********${number.slice(-4)}`)
  await expect(page.getByTestId('users-verification-panel')).toContainText('居民身份证')
  await expect(page.getByTestId('users-verification-panel')).not.toContainText(number)
  await expect(page.getByTestId('users-verification-history').locator('tbody tr')).toHaveCount(1)
  await shot(page, 'users-detail-verification')

  await openTab(page, '授权同意')
  await expect(page.getByTestId('users-consent-marketing')).toHaveText('已同意')
  await expect(page.getByTestId('users-consent-location')).toHaveText('未表态')
  await expect(page.getByTestId('users-consents-history').locator('tbody tr')).toHaveCount(1)
  await expect(page.getByTestId('users-consents-history')).toContainText('营销消息')
  await shot(page, 'users-detail-consents')

  await openTab(page, '设备')
  await expect(page.getByTestId('users-device-id-APP')).toContainText('e2****56')
  await expect(page.getByTestId('users-devices')).toContainText('Apple iPhone15,2')
  await expect(page.getByTestId('users-devices')).toContainText('iOS 18.1')
  await expect(page.getByTestId('users-devices')).not.toContainText('e2e-push-token-abcdef')
  await shot(page, 'users-detail-devices')

  // The verification's page in the review queue is one click away.
  await openTab(page, '实名认证')
  await page.getByTestId('users-verification-open').click()
  await expect(page).toHaveURL(/\/verifications\/\d+$/)
  await expect(page.getByTestId('verification-name')).toHaveText('张**')
})

test('a holder of user:pii:view shows an address whole', async ({ page }) => {
  await openAs(page, viewer, `/users/${user.id}`)
  await openTab(page, '收货地址')
  await expect(page.getByTestId(`users-address-phone-${addressId}`)).toContainText('139****5678')
  await page.getByTestId('users-addresses-reveal').click()
  await expect(page.getByTestId('users-addresses-revealed')).toBeVisible()
  await expect(page.getByTestId(`users-address-name-${addressId}`)).toHaveText('李四')
  await expect(page.getByTestId(`users-address-phone-${addressId}`)).toHaveText('13912345678')
  await expect(page.getByTestId(`users-address-detail-${addressId}`)).toHaveText(`石牌街道 ${DETAIL}`)
  await shot(page, 'users-detail-addresses-revealed')

  // Masked again with the switch.
  await page.getByTestId('users-addresses-reveal').click()
  await expect(page.getByTestId(`users-address-name-${addressId}`)).toContainText('李*')

  // Without the review permission the verification tab says why it shows nothing.
  await openTab(page, '实名认证')
  await expect(page.getByTestId('users-verification-forbidden')).toBeVisible()
})

test('staff without user:pii:view get no reveal switch', async ({ page }) => {
  const role = unique('user_viewer')
  await createRole(role, ['menu:user', 'user:view'])
  const plain = await createStaff({ roles: [role] })
  await openAs(page, plain, `/users/${user.id}`)
  await openTab(page, '收货地址')
  await expect(page.getByTestId(`users-address-name-${addressId}`)).toContainText('李*')
  await expect(page.getByTestId('users-addresses-reveal')).toHaveCount(0)
  await expect(page).toHaveURL(url(`/users/${user.id}`))
})
