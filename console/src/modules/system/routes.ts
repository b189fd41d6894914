import type { RouteRecordRaw } from 'vue-router'

const menu = 'menu:system'

export default [
  {
    path: '/system/dictionaries',
    name: 'system-dictionaries',
    component: () => import('./Dictionaries.vue'),
    meta: { permission: 'dict:manage', title: 'system.menu.dictionaries', menu, icon: 'Setting' },
  },
  {
    path: '/system/config',
    name: 'system-config',
    component: () => import('./Config.vue'),
    meta: { permission: 'config:manage', title: 'system.menu.config', menu, icon: 'Setting' },
  },
  {
    path: '/system/client-apps',
    name: 'system-client-apps',
    component: () => import('./ClientApps.vue'),
    meta: { permission: 'client_app:manage', title: 'system.menu.clientApps', menu, icon: 'Key' },
  },
] satisfies RouteRecordRaw[]
