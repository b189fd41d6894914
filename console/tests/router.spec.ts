import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { defineComponent } from 'vue'
import { createMemoryHistory, createRouter, type RouteRecordRaw } from 'vue-router'
import { ProblemError } from '@usercenter/client'
import { createGuard, type GuardAuth } from '@/router/guard'
import { buildRoutes } from '@/router/routes'

const Page = defineComponent({ template: '<div />' })
const views = { login: Page, layout: Page, notFound: Page, forbidden: Page, home: Page }
const children: RouteRecordRaw[] = [
  { path: '/dashboard', component: Page, meta: { permission: 'stats:view', menu: 'menu:dashboard' } },
  { path: '/users/:id', component: Page, meta: { permission: 'user:view', menu: 'menu:user' } },
  { path: '/open', component: Page },
]

function fakeAuth(permissions: string[] | null, expired = false): GuardAuth {
  const state = {
    loggedIn: permissions !== null,
    me: null as unknown,
    can: (code: string) => (permissions ?? []).includes(code),
    expired: () => expired,
    loadMe: async () => {
      state.me = { permissions }
      return state.me
    },
    clear: () => {
      state.loggedIn = false
    },
  }
  return state
}

function makeRouter(auth: GuardAuth) {
  const router = createRouter({ history: createMemoryHistory('/admin/'), routes: buildRoutes(children, views) })
  router.beforeEach(createGuard(() => auth, () => '/dashboard'))
  return router
}

describe('router guard', () => {
  beforeEach(() => setActivePinia(createPinia()))

  it('sends a visitor who is not logged in to /login with a redirect back', async () => {
    const router = makeRouter(fakeAuth(null))
    await router.push('/users/42?tab=logins')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/users/42?tab=logins')
  })

  it('an expired session goes to login too', async () => {
    const router = makeRouter(fakeAuth(['user:view'], true))
    await router.push('/users/42')
    expect(router.currentRoute.value.name).toBe('login')
  })

  it('a route whose permission is missing shows 403 and keeps the URL', async () => {
    const router = makeRouter(fakeAuth(['stats:view']))
    await router.push('/users/42')
    expect(router.currentRoute.value.name).toBe('forbidden')
    expect(router.currentRoute.value.fullPath).toBe('/users/42')
  })

  it('a held permission opens the page', async () => {
    const router = makeRouter(fakeAuth(['user:view']))
    await router.push('/users/42')
    expect(router.currentRoute.value.path).toBe('/users/42')
    expect(router.currentRoute.value.name).not.toBe('forbidden')
  })

  it('an unknown path is the 404 page', async () => {
    const router = makeRouter(fakeAuth(['user:view']))
    await router.push('/no/such/page')
    expect(router.currentRoute.value.name).toBe('not-found')
    expect(router.currentRoute.value.fullPath).toBe('/no/such/page')
  })

  it('the start page leads to the first page the operator may open', async () => {
    const router = makeRouter(fakeAuth(['stats:view']))
    await router.push('/')
    expect(router.currentRoute.value.path).toBe('/dashboard')
  })

  it('a session the server refuses (401) goes to login', async () => {
    const auth = fakeAuth(['user:view'])
    auth.loadMe = async () => {
      throw new ProblemError({ status: 401, code: 'session_revoked', title: 'Session ended' })
    }
    const router = makeRouter(auth)
    await router.push('/users/7')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/users/7')
    expect(auth.loggedIn).toBe(false)
  })

  it('a failed or cut-short session check keeps the session and stays put', async () => {
    const auth = fakeAuth(['user:view'])
    auth.loadMe = async () => {
      throw new ProblemError({ status: 0, code: 'network_error', title: 'Network error' })
    }
    const router = makeRouter(auth)
    await router.push('/users/7')
    expect(router.currentRoute.value.name).not.toBe('login')
    expect(auth.loggedIn).toBe(true)
  })

  it('the login page needs no session', async () => {
    const router = makeRouter(fakeAuth(null))
    await router.push('/login')
    expect(router.currentRoute.value.name).toBe('login')
  })
})
