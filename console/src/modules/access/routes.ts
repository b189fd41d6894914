import type { RouteRecordRaw } from 'vue-router'

const menu = 'menu:access'

export default [
  {
    path: '/access/permissions',
    name: 'access-permissions',
    component: () => import('./Permissions.vue'),
    meta: { permission: 'role:manage', title: 'access.menu.permissions', menu, icon: 'Lock' },
  },
  {
    path: '/access/roles',
    name: 'access-roles',
    component: () => import('./Roles.vue'),
    meta: { permission: 'role:manage', title: 'access.menu.roles', menu, icon: 'UserFilled' },
  },
  {
    path: '/access/grants',
    name: 'access-grants',
    component: () => import('./Grants.vue'),
    meta: { permission: 'role:manage', title: 'access.menu.grants', menu, icon: 'Key' },
  },
  {
    path: '/access/staff',
    name: 'access-staff',
    component: () => import('./Staff.vue'),
    meta: { permission: 'staff:manage', title: 'access.menu.staff', menu, icon: 'UserFilled' },
  },
  {
    path: '/access/audit',
    name: 'access-audit',
    component: () => import('./Audit.vue'),
    meta: { permission: 'audit:view', title: 'access.menu.audit', menu, icon: 'Document' },
  },
] satisfies RouteRecordRaw[]
