// The operator's session: the staff bearer token (kept in localStorage with its expiry, so a
// reload stays logged in), who they are and what they hold (GET /v1/admin/me).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api } from '@/api'

export interface MenuNode {
  code: string
  name: string
  path: string | null
  sort: number
  children: MenuNode[]
}

export interface Me {
  id: string
  username: string
  display_name: string | null
  status: string
  permissions: string[]
  scopes: Record<string, string[]>
  totp_enrolment_required: boolean
  menus?: MenuNode[]
}

export interface LoginAnswer {
  access_token: string
  expires_in: number
  session_id: string
  totp_enrolment_required: boolean
  staff: { id: string; username: string; display_name: string | null }
}

export interface Credentials {
  username: string
  password: string
  totp_code?: string
  recovery_code?: string
}

const STORAGE_KEY = 'uc.console.session'

interface Stored {
  token: string
  expiresAt: number
}

function readStored(): Stored | null {
  try {
    const raw = globalThis.localStorage?.getItem(STORAGE_KEY)
    if (!raw) return null
    const stored = JSON.parse(raw) as Stored
    return stored.expiresAt > Date.now() ? stored : null
  } catch {
    return null
  }
}

export const useAuth = defineStore('auth', () => {
  const stored = readStored()
  const token = ref<string | null>(stored?.token ?? null)
  const expiresAt = ref<number>(stored?.expiresAt ?? 0)
  const me = ref<Me | null>(null)
  /** true while the session may only set up the authenticator (password-only login). */
  const enrolmentOnly = ref(false)

  const held = computed(() => new Set(me.value?.permissions ?? []))
  const loggedIn = computed(() => token.value !== null && !enrolmentOnly.value)

  function can(code: string): boolean {
    return held.value.has(code)
  }

  function canAny(codes: readonly string[]): boolean {
    return codes.some((code) => held.value.has(code))
  }

  function expired(now = Date.now()): boolean {
    return token.value !== null && expiresAt.value <= now
  }

  function setSession(accessToken: string, expiresIn: number, enrolment: boolean): void {
    token.value = accessToken
    expiresAt.value = Date.now() + expiresIn * 1000
    enrolmentOnly.value = enrolment
    if (!enrolment) {
      globalThis.localStorage?.setItem(
        STORAGE_KEY,
        JSON.stringify({ token: accessToken, expiresAt: expiresAt.value } satisfies Stored),
      )
    }
  }

  /** Password (and the second factor): the answer says whether enrolment is required. */
  async function login(credentials: Credentials): Promise<LoginAnswer> {
    const answer = (await api.POST('/v1/admin/auth/login', { body: credentials })) as LoginAnswer
    setSession(answer.access_token, answer.expires_in, answer.totp_enrolment_required)
    if (!answer.totp_enrolment_required) await loadMe()
    return answer
  }

  async function loadMe(): Promise<Me> {
    me.value = (await api.GET('/v1/admin/me')) as Me
    return me.value
  }

  /** Forget the session locally (and end it on the server unless `remote` is false). */
  async function logout(remote = true): Promise<void> {
    const had = token.value
    if (remote && had) {
      try {
        await api.POST('/v1/admin/auth/logout')
      } catch {
        // already ended or expired: nothing to do
      }
    }
    clear()
  }

  function clear(): void {
    token.value = null
    expiresAt.value = 0
    me.value = null
    enrolmentOnly.value = false
    globalThis.localStorage?.removeItem(STORAGE_KEY)
  }

  return {
    token,
    expiresAt,
    me,
    enrolmentOnly,
    loggedIn,
    can,
    canAny,
    expired,
    setSession,
    login,
    loadMe,
    logout,
    clear,
  }
})
