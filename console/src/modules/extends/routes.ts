import type { RouteRecordRaw } from 'vue-router'

// Under the Users menu (the permission `user:extends:manage` sits there in the tree).
export default [
  {
    path: '/users/extend-keys',
    name: 'extend-keys',
    component: () => import('./ExtendKeys.vue'),
    meta: {
      permission: 'user:extends:manage',
      title: 'extends.menu.keys',
      menu: 'menu:user',
      icon: 'Setting',
    },
  },
] satisfies RouteRecordRaw[]
