/** Display helpers every page shares. */

const pad = (n: number): string => String(n).padStart(2, '0')

/** `2026-11-27 23:07:22` in the browser's time zone; `—` for nothing. */
export function formatTime(value: string | null | undefined): string {
  if (!value) return '—'
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return value
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  )
}

/** The tag colour of a status word, whatever its case. */
export function statusType(status: string | null | undefined): 'success' | 'info' | 'warning' | 'danger' {
  switch ((status ?? '').toLowerCase()) {
    case 'active':
    case 'approved':
    case 'paid':
      return 'success'
    case 'pending':
    case 'suspended':
      return 'warning'
    case 'disabled':
    case 'rejected':
    case 'failed':
    case 'closed':
    case 'deleted':
      return 'danger'
    default:
      return 'info'
  }
}
