import { describe, expect, it } from 'vitest'
import {
  REASON_MAX,
  canDecide,
  cleanReason,
  filtersFromQuery,
  queryOfFilters,
  statusTag,
} from '@/modules/verification/review'

describe('verification review', () => {
  it('only a pending verification can be decided', () => {
    expect(canDecide('pending')).toBe(true)
    expect(canDecide('approved')).toBe(false)
    expect(canDecide('rejected')).toBe(false)
    expect(canDecide('none')).toBe(false)
  })

  it('colours the statuses', () => {
    expect(statusTag('pending')).toBe('warning')
    expect(statusTag('approved')).toBe('success')
    expect(statusTag('rejected')).toBe('danger')
    expect(statusTag('none')).toBe('info')
  })

  it('wants a reason of 1 to 200 characters, trimmed', () => {
    expect(cleanReason('  照片不清晰 ')).toBe('照片不清晰')
    expect(cleanReason('   ')).toBeNull()
    expect(cleanReason('x'.repeat(REASON_MAX))).toHaveLength(REASON_MAX)
    expect(cleanReason('x'.repeat(REASON_MAX + 1))).toBeNull()
  })

  it('opens on the pending ones and keeps the filter in the URL', () => {
    expect(filtersFromQuery({})).toEqual({ status: 'pending' })
    expect(filtersFromQuery({ status: 'approved' })).toEqual({ status: 'approved' })
    expect(filtersFromQuery({ status: 'all' })).toEqual({ status: '' })
    expect(filtersFromQuery({ status: 'nonsense' })).toEqual({ status: 'pending' })
    expect(filtersFromQuery({ status: ['rejected', 'approved'] })).toEqual({ status: 'rejected' })
    expect(queryOfFilters({ status: '' })).toEqual({ status: 'all' })
    expect(queryOfFilters({ status: 'rejected' })).toEqual({ status: 'rejected' })
  })
})
