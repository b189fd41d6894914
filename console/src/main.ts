import { createPinia } from 'pinia'
import { createApp, watch } from 'vue'
import { connectApi } from '@/api'
import { vPerm } from '@/directives/perm'
import { i18n } from '@/i18n'
import { createConsoleRouter } from '@/router'
import { loginRedirect } from '@/router/guard'
import { useAuth } from '@/stores/auth'
import App from './App.vue'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
const router = createConsoleRouter()
app.use(router)
app.directive('perm', vPerm)

const auth = useAuth()

/** The session ended (401 or expiry): back to login, then back here after logging in. */
function sessionEnded(): void {
  const current = router.currentRoute.value
  if (current.meta.public) return
  auth.clear()
  // During the first navigation (nothing shown yet) the guard sends it to login itself.
  if (current.matched.length === 0) return
  const target = loginRedirect(current)
  void router.replace({ ...target, query: { ...target.query, expired: '1' } })
}

connectApi({ token: () => auth.token, unauthorized: sessionEnded })

// The token's own expiry ends the session without waiting for a 401.
let expiryTimer: ReturnType<typeof setTimeout> | undefined
watch(
  () => [auth.token, auth.expiresAt] as const,
  ([token, expiresAt]) => {
    clearTimeout(expiryTimer)
    if (!token) return
    // setTimeout caps at ~24.8 days; sessions are hours long.
    const wait = Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1)
    expiryTimer = setTimeout(sessionEnded, wait)
  },
  { immediate: true },
)

document.documentElement.lang = i18n.global.locale.value
app.mount('#app')
