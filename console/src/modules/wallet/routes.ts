import type { RouteRecordRaw } from 'vue-router'

const menu = 'menu:wallet'

export default [
  {
    path: '/wallet/accounts',
    name: 'wallet-accounts',
    component: () => import('./Accounts.vue'),
    meta: { permission: 'wallet:view', title: 'wallet.menu.accounts', menu, icon: 'Wallet' },
  },
  {
    path: '/wallet/sponsors',
    name: 'wallet-sponsors',
    component: () => import('./Sponsors.vue'),
    meta: { permission: 'wallet:view', title: 'wallet.menu.sponsors', menu, icon: 'Coin' },
  },
  {
    path: '/wallet/adjustments',
    name: 'wallet-adjustments',
    component: () => import('./Adjustments.vue'),
    meta: { permission: 'wallet:view', title: 'wallet.menu.adjustments', menu, icon: 'Tickets' },
  },
  {
    path: '/wallet/withdrawals',
    name: 'wallet-withdrawals',
    component: () => import('./Withdrawals.vue'),
    meta: { permission: 'wallet:view', title: 'wallet.menu.withdrawals', menu, icon: 'Coin' },
  },
  {
    path: '/wallet/reconciliation',
    name: 'wallet-reconciliation',
    component: () => import('./Reconciliation.vue'),
    meta: {
      permission: 'wallet:reconcile',
      title: 'wallet.menu.reconciliation',
      menu,
      icon: 'Document',
    },
  },
] satisfies RouteRecordRaw[]
