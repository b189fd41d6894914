/** The verification pages' pure pieces: what a status looks like, what may be done, reasons. */
import type { LocationQuery } from 'vue-router'
import type { VerificationFilters, VerificationStatus } from './api'

export const STATUSES: VerificationStatus[] = ['pending', 'approved', 'rejected']
export const REASON_MAX = 200

/** The tag colour of a status. */
export function statusTag(status: string): 'warning' | 'success' | 'danger' | 'info' {
  if (status === 'pending') return 'warning'
  if (status === 'approved') return 'success'
  if (status === 'rejected') return 'danger'
  return 'info'
}

/** Only a pending verification can be approved or rejected. */
export function canDecide(status: string): boolean {
  return status === 'pending'
}

/** A rejection reason as sent: trimmed; null when empty or too long (the server wants 1-200). */
export function cleanReason(reason: string): string | null {
  const value = reason.trim()
  return value.length >= 1 && value.length <= REASON_MAX ? value : null
}

/** `?status=…` as the queue's filter; the queue opens on the pending ones. */
export function filtersFromQuery(query: LocationQuery): VerificationFilters {
  const raw = Array.isArray(query.status) ? query.status[0] : query.status
  if (raw === 'all') return { status: '' }
  return { status: STATUSES.find((s) => s === raw) ?? 'pending' }
}

/** The filter as the URL keeps it (every status: `all`). */
export function queryOfFilters(filters: VerificationFilters): { status: string } {
  return { status: filters.status || 'all' }
}
