import type { RouteRecordRaw } from 'vue-router'
import { moduleRoutes } from '@/modules'

export const FORBIDDEN = 'forbidden'
export const NOT_FOUND = 'not-found'
export const LOGIN = 'login'

export function buildRoutes(children: RouteRecordRaw[] = moduleRoutes): RouteRecordRaw[] {
  return [
    {
      path: '/login',
      name: LOGIN,
      component: () => import('@/views/LoginView.vue'),
      meta: { public: true, title: 'login.title' },
    },
    {
      path: '/',
      component: () => import('@/layout/AppLayout.vue'),
      children: [
        { path: '', name: 'home', redirect: () => ({ path: firstPath(children) }) },
        ...children,
        // Reached by name only (the URL is kept): the page the operator may not see.
        {
          path: ':pathMatch(.*)*',
          name: FORBIDDEN,
          component: () => import('@/views/ForbiddenView.vue'),
          meta: { title: 'errors.forbiddenTitle', hidden: true },
        },
      ],
    },
    {
      path: '/:pathMatch(.*)*',
      name: NOT_FOUND,
      component: () => import('@/views/NotFoundView.vue'),
      meta: { title: 'errors.notFoundTitle', hidden: true },
    },
  ]
}

function firstPath(children: RouteRecordRaw[]): string {
  const dashboard = children.find((r) => r.path === '/dashboard' || r.path === 'dashboard')
  return dashboard ? '/dashboard' : '/'
}
