import type { RouteRecordRaw } from 'vue-router'

export default [
  {
    path: '/users',
    name: 'users',
    component: () => import('./UserList.vue'),
    meta: { permission: 'user:view', title: 'users.menu.list', menu: 'menu:user', icon: 'User' },
  },
  {
    path: '/users/:id',
    name: 'user-detail',
    component: () => import('./UserDetail.vue'),
    props: true,
    meta: {
      permission: 'user:view',
      title: 'users.menu.detail',
      menu: 'menu:user',
      hidden: true,
    },
  },
] satisfies RouteRecordRaw[]
