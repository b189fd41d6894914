import type { RouteRecordRaw } from 'vue-router'

// Under the System menu (the permission `events:view` sits there in the permission tree).
const menu = 'menu:system'

export default [
  {
    path: '/system/events/relay',
    name: 'events-relay',
    component: () => import('./RelayStatus.vue'),
    meta: { permission: 'events:view', title: 'events.menu.relay', menu, icon: 'Setting' },
  },
  {
    path: '/system/events',
    name: 'events-browser',
    component: () => import('./EventBrowser.vue'),
    meta: { permission: 'events:view', title: 'events.menu.browser', menu, icon: 'Setting' },
  },
] satisfies RouteRecordRaw[]
