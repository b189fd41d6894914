import { api } from '@/api'

export const EXTEND_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'enum'] as const
export type ExtendType = (typeof EXTEND_TYPES)[number]

/** An extension key as staff declared it (seed 003 users_extends). */
export interface ExtendKey {
  key: string
  label: string
  type: string
  options: string[] | null
  max_length: number | null
  is_user_editable: boolean
  status: string
  sort_order: number
  created_at: string
  updated_at: string
}

export interface ExtendKeyIn {
  key: string
  label: string
  type: ExtendType
  options: string[] | null
  max_length: number | null
  is_user_editable: boolean
  sort_order: number
}

export interface ExtendKeyChanges {
  label?: string
  options?: string[]
  max_length?: number | null
  is_user_editable?: boolean
  status?: 'active' | 'disabled'
  sort_order?: number
}

export async function listExtendKeys(): Promise<ExtendKey[]> {
  const answer = await api.GET('/v1/admin/profile/extend-keys', {})
  return answer.items
}

export function createExtendKey(body: ExtendKeyIn): Promise<ExtendKey> {
  return api.POST('/v1/admin/profile/extend-keys', { body })
}

export function updateExtendKey(key: string, body: ExtendKeyChanges): Promise<ExtendKey> {
  return api.PATCH('/v1/admin/profile/extend-keys/{key}', { params: { path: { key } }, body })
}
