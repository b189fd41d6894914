import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: '/dashboard',
    name: 'dashboard',
    component: () => import('./DashboardView.vue'),
    meta: {
      permission: 'stats:view',
      title: 'dashboard.menu.dashboard',
      menu: 'menu:dashboard',
      icon: 'Odometer',
    },
  },
] satisfies RouteRecordRaw[]
