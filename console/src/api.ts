// The one API client of the console: the staff token from the auth store, Accept-Language from
// the current locale, and a 401 from any call sends the operator back to the login page with a
// redirect to where they were.
import { createClient, ProblemError } from '@usercenter/client'
import { ElMessage } from 'element-plus'
import { currentLocale, i18n } from '@/i18n'

type Hooks = {
  token: () => string | null
  unauthorized: (problem: ProblemError) => void
}

// Set by main.ts once the store and router exist (avoids an import cycle with them).
const hooks: Hooks = { token: () => null, unauthorized: () => undefined }

export function connectApi(next: Hooks): void {
  hooks.token = next.token
  hooks.unauthorized = next.unauthorized
}

export const api = createClient({
  baseUrl: '',
  getToken: () => hooks.token(),
  language: () => currentLocale(),
  onUnauthorized: (problem) => hooks.unauthorized(problem),
})

/** The problem's title, and each field's message on its own line. */
export function problemText(e: unknown): string {
  if (e instanceof ProblemError) {
    const lines = [e.title]
    if (e.detail) lines.push(e.detail)
    for (const item of e.errors) lines.push(item.field ? `${item.field}: ${item.message}` : item.message)
    return lines.join('\n')
  }
  if (e instanceof Error) return e.message
  return String(i18n.global.t('common.error'))
}

/** Shows an error from the API (or anything thrown) as a message toast. */
export function showError(e: unknown): void {
  // A 401 already sends the operator to the login page; do not also toast it.
  if (e instanceof ProblemError && e.status === 401) return
  ElMessage({ type: 'error', message: problemText(e), showClose: true, duration: 5000 })
}

export { ProblemError }
