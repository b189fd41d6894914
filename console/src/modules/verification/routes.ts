import type { RouteRecordRaw } from 'vue-router'

// Under the Users menu (the permission `user:verify:review` sits there in the permission tree).
const menu = 'menu:user'

export default [
  {
    path: '/verifications',
    name: 'verification-queue',
    component: () => import('./VerificationQueue.vue'),
    meta: { permission: 'user:verify:review', title: 'verification.menu.queue', menu, icon: 'Postcard' },
  },
  {
    path: '/verifications/:id',
    name: 'verification-detail',
    component: () => import('./VerificationDetail.vue'),
    props: true,
    meta: {
      permission: 'user:verify:review',
      title: 'verification.menu.detail',
      menu,
      hidden: true,
    },
  },
] satisfies RouteRecordRaw[]
