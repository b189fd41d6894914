import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { api } from '@/api'
import { type Me, useAuth } from '@/stores/auth'

const me: Me = {
  id: '1',
  username: 'ops',
  display_name: 'Ops',
  status: 'active',
  permissions: ['user:view', 'wallet:view'],
  scopes: {},
  totp_enrolment_required: false,
}

describe('auth store', () => {
  beforeEach(() => {
    localStorage.clear()
    setActivePinia(createPinia())
    vi.restoreAllMocks()
  })

  it('can and canAny follow the permissions of /v1/admin/me', () => {
    const auth = useAuth()
    auth.me = me
    expect(auth.can('user:view')).toBe(true)
    expect(auth.can('user:disable')).toBe(false)
    expect(auth.canAny(['user:disable', 'wallet:view'])).toBe(true)
    expect(auth.canAny(['user:disable', 'role:manage'])).toBe(false)
    expect(auth.canAny([])).toBe(false)
  })

  it('holds nothing before /v1/admin/me has answered', () => {
    expect(useAuth().can('user:view')).toBe(false)
  })

  it('logs in, keeps the session across a reload, and logout forgets it', async () => {
    const post = vi.spyOn(api, 'POST').mockImplementation((async (path: string) =>
      path === '/v1/admin/auth/login'
        ? {
            access_token: 'tok',
            expires_in: 3600,
            session_id: 's',
            totp_enrolment_required: false,
            staff: { id: '1', username: 'ops', display_name: null },
          }
        : undefined) as never,
    )
    vi.spyOn(api, 'GET').mockResolvedValue(me as never)
    const auth = useAuth()
    await auth.login({ username: 'ops', password: 'pw', totp_code: '123456' })
    expect(auth.loggedIn).toBe(true)
    expect(auth.me?.username).toBe('ops')

    setActivePinia(createPinia())
    const reloaded = useAuth()
    expect(reloaded.token).toBe('tok')

    await reloaded.logout()
    expect(post).toHaveBeenCalledWith('/v1/admin/auth/logout')
    expect(reloaded.token).toBeNull()
    expect(reloaded.me).toBeNull()
    expect(reloaded.can('user:view')).toBe(false)
    setActivePinia(createPinia())
    expect(useAuth().token).toBeNull()
  })

  it('an enrolment-only login is not logged in and is not kept', async () => {
    vi.spyOn(api, 'POST').mockResolvedValue({
      access_token: 'enrol',
      expires_in: 3600,
      session_id: 's',
      totp_enrolment_required: true,
      staff: { id: '1', username: 'root', display_name: null },
    } as never)
    const auth = useAuth()
    await auth.login({ username: 'root', password: 'pw' })
    expect(auth.token).toBe('enrol')
    expect(auth.loggedIn).toBe(false)
    setActivePinia(createPinia())
    expect(useAuth().token).toBeNull()
  })

  it('a stored session past its expiry is forgotten', () => {
    localStorage.setItem(
      'uc.console.session',
      JSON.stringify({ token: 'old', expiresAt: Date.now() - 1000 }),
    )
    expect(useAuth().token).toBeNull()
  })
})
