import { api } from '@/api'
import type { CursorPage } from '@/composables/useCursorList'
import { idParam } from '@/composables/ids'

export interface DictEntry {
  id: string
  dict_type: string
  dict_code: string
  dict_name: string
  dict_value: string | null
  parent_id: string | null
  extra_data: Record<string, unknown> | null
  sort_order: number
  is_active: boolean
  remark: string | null
}

export interface DictEntryIn {
  dict_type: string
  dict_code: string
  dict_name: string
  dict_value: string | null
  sort_order: number
  is_active: boolean
  remark: string | null
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

export interface ConfigEntry {
  key: string
  group: string
  /** As its value_type says (the schema types it as any JSON). */
  value: unknown
  value_type: string
  description: string | null
  is_public: boolean
  is_editable: boolean
  updated_by: string | null
  updated_at: string
}

export interface DictType {
  dict_type: string
  entries: number
  active_entries: number
}

export const APP_TYPES = [
  'wechat_miniapp',
  'wechat_official',
  'wechat_app',
  'wechat_web',
  'qq',
  'weibo',
  'alipay',
  'apple',
] as const
export type AppType = (typeof APP_TYPES)[number]

export interface ClientApp {
  id: string
  app_type: string
  app_id: string
  name: string | null
  is_active: boolean
  secret_set: boolean
  managed_by?: string
  extra?: Record<string, unknown> | null
  created_at?: string
  updated_at?: string
}

export function listDictionaries(
  cursor: string | null,
  limit: number,
  dictType: string,
): Promise<CursorPage<DictEntry>> {
  return api.GET('/v1/admin/dictionaries', {
    params: { query: { cursor: cursor ?? undefined, limit, dict_type: dictType || undefined } },
  })
}

export function createDictionary(body: DictEntryIn): Promise<DictEntry> {
  return api.POST('/v1/admin/dictionaries', { body })
}

export function updateDictionary(id: string, body: Partial<DictEntryIn>): Promise<DictEntry> {
  return api.PATCH('/v1/admin/dictionaries/{dict_id}', {
    params: { path: { dict_id: idParam(id) } },
    body,
  })
}

export async function deleteDictionary(id: string): Promise<void> {
  await api.DELETE('/v1/admin/dictionaries/{dict_id}', { params: { path: { dict_id: idParam(id) } } })
}

export function listConfig(): Promise<ConfigEntry[]> {
  return api.GET('/v1/admin/config', {})
}

export function putConfig(key: string, value: JsonValue): Promise<ConfigEntry> {
  return api.PUT('/v1/admin/config/{key}', { params: { path: { key } }, body: { value } })
}

export function listClientApps(): Promise<ClientApp[]> {
  return api.GET('/v1/admin/client-apps', {})
}

export function createClientApp(body: {
  app_type: AppType
  app_id: string
  name: string | null
  secret: string
  is_active: boolean
}): Promise<ClientApp> {
  return api.POST('/v1/admin/client-apps', { body })
}

export function updateClientApp(
  id: string,
  body: { name?: string | null; is_active?: boolean; secret?: string },
): Promise<ClientApp> {
  return api.PATCH('/v1/admin/client-apps/{client_app_id}', {
    params: { path: { client_app_id: idParam(id) } },
    body,
  })
}

/** The dictionary types there are, with their entry counts. */
export function listDictTypes(): Promise<DictType[]> {
  return api.GET('/v1/admin/dictionaries/types', {})
}
