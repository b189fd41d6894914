import { createRouter, createWebHistory, type Router, type RouterHistory } from 'vue-router'
import { i18n } from '@/i18n'
import { buildMenu } from '@/layout/menu'
import { moduleRoutes } from '@/modules'
import { useAuth } from '@/stores/auth'
import { createGuard } from './guard'
import { buildRoutes } from './routes'

export function createConsoleRouter(history: RouterHistory = createWebHistory('/admin/')): Router {
  const router = createRouter({ history, routes: buildRoutes() })
  router.beforeEach(
    createGuard(
      () => useAuth(),
      () => {
        const auth = useAuth()
        const menu = buildMenu(auth.me?.menus, moduleRoutes, (code) => auth.can(code))
        return menu[0]?.items[0]?.path ?? null
      },
    ),
  )
  router.afterEach((to) => {
    const title = to.meta.title ? String(i18n.global.t(to.meta.title)) : ''
    const app = String(i18n.global.t('app.title'))
    document.title = title ? `${title} · ${app}` : app
  })
  return router
}

export { buildRoutes } from './routes'
