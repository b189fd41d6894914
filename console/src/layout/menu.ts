// The sidebar: the menu nodes the operator holds (GET /v1/admin/me `menus`, sorted), each with
// the module routes whose meta.menu is that node and whose permission the operator holds.
import type { RouteRecordRaw } from 'vue-router'
import type { MenuNode } from '@/stores/auth'

export interface SideItem {
  path: string
  title: string
  icon?: string
}

export interface SideGroup {
  code: string
  /** i18n key (`menus.<code>`) when the console knows the node, else the back end's name. */
  title: string
  name: string
  icon?: string
  items: SideItem[]
}

function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`
}

export function buildMenu(
  menus: MenuNode[] | undefined,
  routes: RouteRecordRaw[],
  can: (code: string) => boolean,
): SideGroup[] {
  const visible = routes.filter(
    (r) => r.meta?.menu && !r.meta.hidden && (!r.meta.permission || can(r.meta.permission)),
  )
  // Until the back end lists menus, fall back to the menus the routes name, in their order.
  const nodes: MenuNode[] =
    menus ??
    [...new Set(visible.map((r) => r.meta?.menu as string))].map((code, sort) => ({
      code,
      name: code,
      path: null,
      sort,
      children: [],
    }))
  return [...nodes]
    .sort((a, b) => a.sort - b.sort)
    .map((node) => {
      const items = visible
        .filter((r) => r.meta?.menu === node.code)
        .map((r) => ({ path: absolute(r.path), title: r.meta?.title ?? r.path, icon: r.meta?.icon }))
      return {
        code: node.code,
        title: `menus.${node.code.replace(/^menu:/, '')}`,
        name: node.name,
        icon: items[0]?.icon,
        items,
      }
    })
    .filter((group) => group.items.length > 0)
}
