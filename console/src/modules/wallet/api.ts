import { api } from '@/api'
import type { CursorPage } from '@/composables/useCursorList'
import { idParam } from '@/composables/ids'

export const ASSETS = ['CNY', 'COIN_RECHARGE', 'COIN_GIVE', 'COIN_REWARD', 'POINTS'] as const
export type Asset = (typeof ASSETS)[number]

export type SponsorStatus = 'ACTIVE' | 'SUSPENDED' | 'CLOSED'
export type WithdrawalStatus = 'PENDING' | 'PAID' | 'FAILED'

export interface Balance {
  asset: string
  balance: string
  frozen: string
  available: string
}

export interface Wallet {
  balances: Balance[]
  vip_until: string | null
}

export interface Entry {
  transfer_id: string
  kind: string
  asset: string
  amount: string
  balance_before: string
  balance_after: string
  created_at: string
}

export interface Sponsor {
  id: string
  name: string
  sponsor_type: string
  status: string
  contact: Record<string, unknown> | null
  balance: Balance
}

export interface Adjustment {
  id: string
  user_id: string
  asset: string
  amount: string
  adjustment_type: string
  reason: string
  status: string
  applicant_id?: string
  approver_id?: string | null
  applied_by?: string | null
  decided_by?: string | null
  approval_remark: string | null
  transfer_id: string | null
  created_at: string
  decided_at: string | null
}

export interface Withdrawal {
  id: string
  status: string
  amount: string
  fee: string
  actual_amount: string
  payout_account: Record<string, unknown>
  handle_remark: string | null
  created_at: string
  handled_at: string | null
  user_id?: string
}

export interface Reconciliation {
  clean: boolean
  accounts: number
  transfers: number
  entries: number
  differences: { check: string; subject: string; expected: string; found: string }[]
}

/** Who filed an adjustment, whichever name the server gives the field. */
export function applicantOf(a: Adjustment): string | null {
  return a.applied_by ?? a.applicant_id ?? null
}

export function deciderOf(a: Adjustment): string | null {
  return a.decided_by ?? a.approver_id ?? null
}

const q = (cursor: string | null, limit: number) => ({ cursor: cursor ?? undefined, limit })

export function userWallet(userId: string): Promise<Wallet> {
  return api.GET('/v1/admin/wallet/users/{user_id}', {
    params: { path: { user_id: idParam(userId) } },
  })
}

export function userEntries(
  userId: string,
  cursor: string | null,
  limit: number,
  asset: string,
): Promise<CursorPage<Entry>> {
  return api.GET('/v1/admin/wallet/users/{user_id}/entries', {
    params: {
      path: { user_id: idParam(userId) },
      query: { ...q(cursor, limit), asset: asset || undefined },
    },
  })
}

export function sponsor(id: string): Promise<Sponsor> {
  return api.GET('/v1/admin/wallet/sponsors/{sponsor_id}', {
    params: { path: { sponsor_id: idParam(id) } },
  })
}

export function sponsorEntries(
  id: string,
  cursor: string | null,
  limit: number,
): Promise<CursorPage<Entry>> {
  return api.GET('/v1/admin/wallet/sponsors/{sponsor_id}/entries', {
    params: { path: { sponsor_id: idParam(id) }, query: q(cursor, limit) },
  })
}

export function listSponsors(
  cursor: string | null,
  limit: number,
  status: SponsorStatus | '',
): Promise<CursorPage<Sponsor>> {
  return api.GET('/v1/admin/wallet/sponsors', {
    params: { query: { ...q(cursor, limit), status: status || undefined } },
  })
}

export function openSponsor(body: {
  name: string
  sponsor_type: 'ENTERPRISE' | 'PARTNER'
  contact: Record<string, string> | null
}): Promise<Sponsor> {
  return api.POST('/v1/admin/wallet/sponsors', { body })
}

export function setSponsorStatus(id: string, status: SponsorStatus): Promise<Sponsor> {
  return api.POST('/v1/admin/wallet/sponsors/{sponsor_id}/status', {
    params: { path: { sponsor_id: idParam(id) } },
    body: { status },
  })
}

export function listAdjustments(
  cursor: string | null,
  limit: number,
  status: string,
): Promise<CursorPage<Adjustment> | Adjustment[]> {
  return api.GET('/v1/admin/wallet/adjustments', {
    params: { query: { ...q(cursor, limit), status: status || undefined } },
  })
}

export function fileAdjustment(body: {
  user_id: string
  asset: Asset
  amount: number
  adjustment_type: 'DATA_RECOVERY' | 'COMPENSATION'
  reason: string
}): Promise<Adjustment> {
  return api.POST('/v1/admin/wallet/adjustments', {
    body: { ...body, user_id: idParam(body.user_id) },
  })
}

export function decideAdjustment(
  id: string,
  decision: 'approve' | 'reject',
  remark: string,
): Promise<Adjustment> {
  const init = {
    params: { path: { adjustment_id: idParam(id) } },
    body: { remark: remark || null },
  }
  return decision === 'approve'
    ? api.POST('/v1/admin/wallet/adjustments/{adjustment_id}/approve', init)
    : api.POST('/v1/admin/wallet/adjustments/{adjustment_id}/reject', init)
}

export function listWithdrawals(
  cursor: string | null,
  limit: number,
  status: WithdrawalStatus | '',
): Promise<CursorPage<Withdrawal>> {
  return api.GET('/v1/admin/wallet/withdrawals', {
    params: { query: { ...q(cursor, limit), status: status || undefined } },
  })
}

export function settleWithdrawal(
  id: string,
  outcome: 'paid' | 'failed',
  remark: string,
): Promise<Withdrawal> {
  const init = {
    params: { path: { withdrawal_id: idParam(id) } },
    body: { remark: remark || null },
  }
  return outcome === 'paid'
    ? api.POST('/v1/admin/wallet/withdrawals/{withdrawal_id}/paid', init)
    : api.POST('/v1/admin/wallet/withdrawals/{withdrawal_id}/failed', init)
}

export function reconcile(): Promise<Reconciliation> {
  return api.GET('/v1/admin/wallet/reconciliation', {})
}
