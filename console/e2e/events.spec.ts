// Events: users registered through the public API become `usercenter.user.registered` events;
// the relay page shows the relay of `usercenter serve` holding the lease and catching up
// (backlog 0), the event browser lists them newest first and filters by type and by subject,
// and an operator without `events:view` has neither menu entry nor page.
import { expect, test, type Page } from '@playwright/test'
import { createRole, createStaff, openAs, root, rootApi, unique, url } from './harness'
import { registerUser, shot, type UserSession } from './pages-support'

const REGISTERED = 'usercenter.user.registered'

interface EventRow {
  type: string
  subject: string
  published: boolean
}

let first: UserSession
let second: UserSession

test.beforeAll(async () => {
  first = await registerUser('evta')
  second = await registerUser('evtb')
})

/** The types of the rows the browser shows. */
async function shownTypes(page: Page): Promise<string[]> {
  return page.getByTestId('events-row-type').allInnerTexts()
}

async function shownSubjects(page: Page): Promise<string[]> {
  return page.getByTestId('events-row-subject').allInnerTexts()
}

async function waitForList(page: Page): Promise<void> {
  await expect(page.getByTestId('events-table').locator('.el-loading-mask:visible')).toHaveCount(0)
}

async function pickType(page: Page, type: string): Promise<void> {
  await page.getByTestId('events-filter-type').click()
  await page.getByTestId(`events-type-option-${type}`).click()
  await expect(page).toHaveURL(new RegExp(`[?&]type=${type.replace(/\./g, '\\.')}`))
  await waitForList(page)
}

test('the relay page: the relay of serve holds the lease and has caught up', async ({ page }) => {
  // Both registrations are sequenced and published before the page is asked (feed-only: the
  // feed is the delivery, so publishing follows sequencing).
  await expect
    .poll(async () => {
      const page = (await (await rootApi()).get('/v1/admin/events', {
        type: REGISTERED,
        limit: 100,
      })) as { items: EventRow[] }
      return page.items
        .filter((e) => [`users/${first.id}`, `users/${second.id}`].includes(e.subject))
        .map((e) => e.published)
    })
    .toEqual([true, true])

  await openAs(page, root(), '/system/events/relay')
  await expect(page.getByTestId('events-relay-state')).toHaveText('运行中')
  await expect(page.getByTestId('events-relay-none')).toHaveCount(0)
  await expect(page.getByTestId('events-relay-holder')).not.toHaveText('—')
  await expect(page.getByTestId('events-relay-holder')).not.toBeEmpty()
  await expect(page.getByTestId('events-relay-broker')).toHaveText('仅拉取接口（未配置消息代理）')
  await expect(page.getByTestId('events-relay-backlog')).toHaveText('0')
  await expect(page.getByTestId('events-relay-age')).toHaveText('没有等待中的事件')
  const sequenced = Number(await page.getByTestId('events-relay-sequenced').innerText())
  expect(sequenced).toBeGreaterThanOrEqual(2)
  await expect(page.getByTestId('events-relay-published')).toHaveText(String(sequenced))
  await expect(page.getByTestId('events-relay-errors')).toContainText('没有错误')

  // The page polls by itself: an event made now shows in the marks without a click.
  await registerUser('evtc')
  await expect
    .poll(async () => Number(await page.getByTestId('events-relay-sequenced').innerText()), {
      timeout: 15_000,
    })
    .toBeGreaterThan(sequenced)
  await expect(page.getByTestId('events-relay-backlog')).toHaveText('0')
  await expect(page.getByTestId('events-relay-updated')).toContainText('更新于')
  await page.getByTestId('events-relay-refresh').click()
  await expect(page.getByTestId('events-relay-holder')).not.toHaveText('—')
  await shot(page, 'events-relay')
})

test('the event browser: newest first, by type, by subject, the data shown', async ({ page }) => {
  await openAs(page, root(), '/system/events')
  await waitForList(page)
  // Newest first: the second user registered after the first.
  const subjects = await shownSubjects(page)
  const firstAt = subjects.indexOf(`users/${first.id}`)
  const secondAt = subjects.indexOf(`users/${second.id}`)
  expect(firstAt).toBeGreaterThanOrEqual(0)
  expect(secondAt).toBeGreaterThanOrEqual(0)
  expect(secondAt).toBeLessThan(firstAt)
  expect(await shownTypes(page)).toContain(REGISTERED)
  await shot(page, 'events-browser')

  // By type: a type nobody caused in this run gives an empty list; user.registered gives
  // only those.
  const api = await rootApi()
  const types = (await api.get('/v1/admin/events/types')) as { type: string }[]
  let unused: string | null = null
  for (const { type } of types) {
    const found = (await api.get('/v1/admin/events', { type, limit: 1 })) as { items: unknown[] }
    if (found.items.length === 0) {
      unused = type
      break
    }
  }
  expect(unused, 'an event type with no events yet').not.toBeNull()
  await pickType(page, unused!)
  await expect(page.getByTestId('events-row-type')).toHaveCount(0)
  await expect(page.getByTestId('events-table')).toContainText('没有事件')

  await pickType(page, REGISTERED)
  await expect(page.getByTestId('events-row-type').first()).toBeVisible()
  expect(new Set(await shownTypes(page))).toEqual(new Set([REGISTERED]))
  expect(await shownSubjects(page)).toContain(`users/${first.id}`)

  // By subject, clicking it in the list: only that user's events, the filter in the URL.
  await page.getByTestId('events-row-subject').filter({ hasText: `users/${first.id}` }).first().click()
  await expect(page.getByTestId('events-filter-subject')).toHaveValue(`users/${first.id}`)
  await expect(page).toHaveURL(new RegExp(`[?&]subject=users(/|%2F)${first.id}(&|$)`))
  await waitForList(page)
  await expect(page.getByTestId('events-row-subject')).toHaveCount(1)
  await expect(page.getByTestId('events-row-subject')).toHaveText(`users/${first.id}`)
  await expect(page.getByTestId('events-row-subjectseq')).toHaveText('1')
  await expect(page.getByTestId('events-row-published')).toHaveText('是')

  // The row opens on its data, as indented JSON with the user's display uid.
  await page.getByTestId('events-table').locator('.el-table__expand-icon').first().click()
  const data = page.getByTestId('events-data')
  await expect(data).toBeVisible()
  await expect(data).toContainText(`"uid": "${first.uid}"`)
  await expect(data).toContainText(`"user_id": ${first.id},`)
  await shot(page, 'events-browser-subject')

  // By subject, typed: the other user, with the type filter cleared.
  await page.getByTestId('events-reset').click()
  await waitForList(page)
  await page.getByTestId('events-filter-subject').fill(`users/${second.id}`)
  await page.getByTestId('events-search').click()
  await waitForList(page)
  await expect(page.getByTestId('events-row-subject')).not.toHaveCount(0)
  expect(new Set(await shownSubjects(page))).toEqual(new Set([`users/${second.id}`]))

  // The filters are in the URL: opening it again shows the same list.
  await page.goto(url(`/system/events?type=${REGISTERED}&subject=users/${first.id}`))
  await waitForList(page)
  await expect(page.getByTestId('events-row-subject')).toHaveText(`users/${first.id}`)
})

test('an operator with events:view has both pages under System', async ({ page }) => {
  const role = unique('evview').toLowerCase().replace(/[^a-z0-9_]/g, '_')
  await createRole(role, ['menu:system', 'events:view'])
  const operator = await createStaff({ roles: [role] })
  await openAs(page, operator, '/system/events')
  // The submenu of the open page is open; open it when it is not.
  const relayEntry = page.getByTestId('shell-menu-system-events-relay')
  if (!(await relayEntry.isVisible())) {
    await page.getByTestId('shell-menu-system').locator('.el-sub-menu__title').click()
  }
  await expect(relayEntry).toBeVisible()
  await expect(page.getByTestId('shell-menu-system-events')).toBeVisible()
  await expect(page.getByTestId('shell-menu-system-dictionaries')).toHaveCount(0)
  await waitForList(page)
  expect(await shownTypes(page)).toContain(REGISTERED)
  await relayEntry.click()
  await expect(page.getByTestId('events-relay-state')).toHaveText('运行中')
})

test('an operator without events:view sees neither entry nor page', async ({ page }) => {
  const role = unique('noevents').toLowerCase().replace(/[^a-z0-9_]/g, '_')
  await createRole(role, ['menu:system', 'dict:manage'])
  const operator = await createStaff({ roles: [role] })
  await openAs(page, operator, '/system/dictionaries')
  // The System menu is theirs (dictionaries), the events pages are not.
  await expect(page.getByTestId('shell-menu-system-dictionaries')).toBeVisible()
  await expect(page.getByTestId('shell-menu-system-events-relay')).toHaveCount(0)
  await expect(page.getByTestId('shell-menu-system-events')).toHaveCount(0)
  await expect(page.getByTestId('shell-menu')).not.toContainText('事件')

  for (const path of ['/system/events', '/system/events/relay']) {
    await page.goto(url(path))
    await expect(page.getByTestId('shell-forbidden')).toBeVisible()
    await expect(page.getByTestId('events-table')).toHaveCount(0)
    await expect(page.getByTestId('events-relay-page')).toHaveCount(0)
  }
  await shot(page, 'events-forbidden')
})
