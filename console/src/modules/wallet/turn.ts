import type { Adjustment } from './api'
import { applicantOf } from './api'

/**
 * Whose move it is on an adjustment, seen by the operator `myId`: the two-person rule means
 * the applicant only ever waits — they are never offered approve or reject, even when they
 * hold wallet:adjust:approve (the server refuses it too).
 */
export type Turn = 'mine' | 'waitingOther' | 'waitingApprover' | 'decided'

export function turnOf(row: Adjustment, myId: string, canApprove: boolean): Turn {
  if (row.status !== 'PENDING') return 'decided'
  if (applicantOf(row) === myId) return 'waitingOther'
  return canApprove ? 'mine' : 'waitingApprover'
}
