import type { RouteComponent, RouteRecordRaw } from 'vue-router'
import { moduleRoutes } from '@/modules'

export const FORBIDDEN = 'forbidden'
export const NOT_FOUND = 'not-found'
export const LOGIN = 'login'

export const HOME = 'home'

type Lazy = RouteComponent | (() => Promise<RouteComponent | { default: RouteComponent }>)

export interface ShellViews {
  login: Lazy
  layout: Lazy
  notFound: Lazy
  forbidden: Lazy
  home: Lazy
}

const shellViews: ShellViews = {
  login: () => import('@/views/LoginView.vue'),
  layout: () => import('@/layout/AppLayout.vue'),
  notFound: () => import('@/views/NotFoundView.vue'),
  forbidden: () => import('@/views/ForbiddenView.vue'),
  home: () => import('@/views/HomeView.vue'),
}

export function buildRoutes(
  children: RouteRecordRaw[] = moduleRoutes,
  views: ShellViews = shellViews,
): RouteRecordRaw[] {
  return [
    {
      path: '/login',
      name: LOGIN,
      component: views.login,
      meta: { public: true, title: 'login.title' },
    },
    {
      path: '/',
      component: views.layout,
      children: [
        // The guard sends the operator on to the first page they may open.
        { path: '', name: HOME, component: views.home },
        ...children,
        // Unknown paths (first of the two catch-alls, so a typed URL lands here)…
        {
          path: ':pathMatch(.*)*',
          name: NOT_FOUND,
          component: views.notFound,
          meta: { title: 'errors.notFoundTitle', hidden: true },
        },
        // …and, reached by name only with the URL kept, the page the operator may not see.
        {
          path: ':pathMatch(.*)*',
          name: FORBIDDEN,
          component: views.forbidden,
          meta: { title: 'errors.forbiddenTitle', hidden: true },
        },
      ],
    },
  ]
}
