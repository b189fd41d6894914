import { describe, expect, it } from 'vitest'
import type { Adjustment } from '@/modules/wallet/api'
import { turnOf } from '@/modules/wallet/turn'

function adjustment(over: Partial<Adjustment>): Adjustment {
  return {
    id: '1',
    user_id: '9',
    asset: 'CNY',
    amount: '10.00',
    adjustment_type: 'COMPENSATION',
    reason: 'r',
    status: 'PENDING',
    approval_remark: null,
    transfer_id: null,
    created_at: '2026-11-27T00:00:00Z',
    decided_at: null,
    ...over,
  }
}

describe('the two-person rule as the console shows it', () => {
  it('never gives the applicant the decision, even with the approve permission', () => {
    expect(turnOf(adjustment({ applied_by: '7' }), '7', true)).toBe('waitingOther')
    // The field's older name works the same.
    expect(turnOf(adjustment({ applicant_id: '7' }), '7', true)).toBe('waitingOther')
  })

  it('hands it to another operator who may approve', () => {
    expect(turnOf(adjustment({ applied_by: '7' }), '8', true)).toBe('mine')
  })

  it('tells an operator without the permission that it waits for an approver', () => {
    expect(turnOf(adjustment({ applied_by: '7' }), '8', false)).toBe('waitingApprover')
  })

  it('offers nothing once decided', () => {
    expect(turnOf(adjustment({ applied_by: '7', status: 'APPROVED' }), '8', true)).toBe('decided')
    expect(turnOf(adjustment({ applied_by: '7', status: 'REJECTED' }), '8', true)).toBe('decided')
  })
})
