import { api } from '@/api'
import type { CursorPage } from '@/composables/useCursorList'
import { idParam } from '@/composables/ids'

export type VerificationStatus = 'none' | 'pending' | 'approved' | 'rejected'

/** The queue's filter: one status, or every status (''). */
export interface VerificationFilters {
  status: VerificationStatus | ''
  /** Only this user's verification (a user has at most one). */
  userId?: string
}

/** A verification as staff lists show it: the name and number masked. */
export interface VerificationRow {
  id: number | null
  user_id: number
  status: VerificationStatus
  document_type: string | null
  real_name_masked: string | null
  document_number_masked: string | null
  sex: string | null
  birth_year: number | null
  reason: string | null
  decided_by: string | null
  vendor_result: string | null
  submitted_at: string | null
  decided_at: string | null
}

export interface HistoryRow {
  action: string
  from_status: string
  to_status: string
  actor: string
  staff_id: number | null
  reason: string | null
  created_at: string
}

/** The detail: masked, and whole (with the photo keys) once revealed (user:pii:view, logged). */
export interface VerificationDetail {
  verification: VerificationRow
  reviewer_id: number | null
  history: HistoryRow[]
  pii_revealed: boolean
  real_name: string | null
  document_number: string | null
  birth_date: string | null
  photo_front: string | null
  photo_back: string | null
  photo_held: string | null
}

/** Verifications newest first, one keyset page. */
export async function listVerifications(
  cursor: string | null,
  limit: number,
  filters: VerificationFilters,
): Promise<CursorPage<VerificationRow>> {
  const page = await api.GET('/v1/admin/verifications', {
    params: {
      query: {
        cursor: cursor ?? undefined,
        limit,
        status: filters.status || undefined,
        user_id: filters.userId ? idParam(filters.userId) : undefined,
      },
    },
  })
  return page as CursorPage<VerificationRow>
}

export async function verificationDetail(id: string, reveal: boolean): Promise<VerificationDetail> {
  const detail = await api.GET('/v1/admin/verifications/{verification_id}', {
    params: { path: { verification_id: idParam(id) }, query: { reveal } },
  })
  return detail as VerificationDetail
}

export async function approveVerification(id: string): Promise<void> {
  await api.POST('/v1/admin/verifications/{verification_id}/approve', {
    params: { path: { verification_id: idParam(id) } },
  })
}

export async function rejectVerification(id: string, reason: string): Promise<void> {
  await api.POST('/v1/admin/verifications/{verification_id}/reject', {
    params: { path: { verification_id: idParam(id) } },
    body: { reason },
  })
}
