// The router guard: not logged in -> /login?redirect=<path>; a route whose meta.permission the
// operator lacks -> the 403 page with the URL kept; unknown paths fall to the 404 route.
import { isProblem } from '@usercenter/client'
import type { NavigationGuardWithThis, RouteLocationNormalized } from 'vue-router'
import { FORBIDDEN, HOME, LOGIN } from './routes'

export interface GuardAuth {
  loggedIn: boolean
  me: unknown
  can(code: string): boolean
  expired(now?: number): boolean
  loadMe(): Promise<unknown>
  clear(): void
}

export interface LoginTarget {
  name: string
  query: Record<string, string>
}

export function loginRedirect(to: Pick<RouteLocationNormalized, 'fullPath'>): LoginTarget {
  const keep = to.fullPath && to.fullPath !== '/' && !to.fullPath.startsWith('/login')
  return { name: LOGIN, query: keep ? { redirect: to.fullPath } : {} }
}

/**
 * `auth` is the session (the Pinia store in the app); `home` names the first page the operator
 * may open (the sidebar's first item), where `/` leads.
 */
export function createGuard(
  auth: () => GuardAuth,
  home: () => string | null = () => null,
): NavigationGuardWithThis<undefined> {
  return async (to) => {
    const a = auth()
    if (to.meta.public) return true
    if (a.loggedIn && a.expired()) a.clear()
    if (!a.loggedIn) return loginRedirect(to)
    if (!a.me) {
      try {
        await a.loadMe()
      } catch (error) {
        // Only the server's 401 ends the session: a request cut short (the operator navigated
        // again while it ran, the network blinked) keeps it and cancels this navigation.
        if (!isProblem(error) || error.status !== 401) return false
        a.clear()
        return loginRedirect(to)
      }
    }
    if (to.name === HOME) {
      const first = home()
      if (first && first !== to.path) return { path: first, replace: true }
      return true
    }
    const needed = to.matched.map((r) => r.meta.permission).filter((p): p is string => !!p)
    if (to.name !== FORBIDDEN && needed.some((code) => !a.can(code))) {
      return {
        name: FORBIDDEN,
        params: { pathMatch: to.path.replace(/^\//, '').split('/') },
        query: to.query,
        hash: to.hash,
        replace: true,
      }
    }
    return true
  }
}
