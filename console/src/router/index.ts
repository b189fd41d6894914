import { createRouter, createWebHistory, type Router, type RouterHistory } from 'vue-router'
import { i18n } from '@/i18n'
import { useAuth } from '@/stores/auth'
import { createGuard } from './guard'
import { buildRoutes } from './routes'

export function createConsoleRouter(history: RouterHistory = createWebHistory('/admin/')): Router {
  const router = createRouter({ history, routes: buildRoutes() })
  router.beforeEach(createGuard(() => useAuth()))
  router.afterEach((to) => {
    const title = to.meta.title ? String(i18n.global.t(to.meta.title)) : ''
    const app = String(i18n.global.t('app.title'))
    document.title = title ? `${title} · ${app}` : app
  })
  return router
}

export { buildRoutes } from './routes'
