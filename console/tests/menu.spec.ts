import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'
import { buildMenu } from '@/layout/menu'

const C = { template: '<div />' }
const routes: RouteRecordRaw[] = [
  { path: '/dashboard', component: C, meta: { permission: 'stats:view', menu: 'menu:dashboard', title: 'd' } },
  { path: '/users', component: C, meta: { permission: 'user:view', menu: 'menu:user', title: 'u' } },
  { path: '/users/:id', component: C, meta: { permission: 'user:view', menu: 'menu:user', hidden: true } },
  { path: '/wallet/accounts', component: C, meta: { permission: 'wallet:view', menu: 'menu:wallet', title: 'w1' } },
  { path: '/wallet/adjustments', component: C, meta: { permission: 'wallet:adjust:apply', menu: 'menu:wallet', title: 'w2' } },
]
const node = (code: string, sort: number) => ({ code, name: code, path: null, sort, children: [] })

describe('sidebar menu', () => {
  it('lists the held menu nodes in order with the held, visible pages under each', () => {
    const held = new Set(['stats:view', 'wallet:view', 'user:view'])
    const menu = buildMenu(
      [node('menu:wallet', 30), node('menu:dashboard', 5), node('menu:user', 10)],
      routes,
      (c) => held.has(c),
    )
    expect(menu.map((g) => g.code)).toEqual(['menu:dashboard', 'menu:user', 'menu:wallet'])
    expect(menu[2]?.items.map((i) => i.path)).toEqual(['/wallet/accounts'])
    expect(menu[1]?.items.map((i) => i.path)).toEqual(['/users'])
  })

  it('a menu node without a page the operator may open is left out', () => {
    const menu = buildMenu([node('menu:user', 10), node('menu:wallet', 30)], routes, (c) => c === 'user:view')
    expect(menu.map((g) => g.code)).toEqual(['menu:user'])
  })
})
