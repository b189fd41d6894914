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

export interface ConfigEntry {
  config_group: string
  config_key: string
  config_value: string
  value_type: string
  description: string | null
  is_public: boolean
  is_editable: boolean
  updated_at?: string | null
}

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

export function putConfig(key: string, value: string): Promise<ConfigEntry> {
  return api.PUT('/v1/admin/config/{key}', { params: { path: { key } }, body: { value } })
}

export function listClientApps(): Promise<ClientApp[]> {
  return api.GET('/v1/admin/client-apps', {})
}

export function createClientApp(body: {
  app_type: string
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
  return api.PATCH('/v1/admin/client-apps/{app_id}', {
    params: { path: { app_id: idParam(id) } },
    body,
  })
}

/** The dictionary types there are, walked from the entries (at most `pages` pages of 100). */
export async function listDictTypes(pages = 10): Promise<string[]> {
  const types = new Set<string>()
  let cursor: string | null = null
  for (let i = 0; i < pages; i++) {
    const page: CursorPage<DictEntry> = await listDictionaries(cursor, 100, '')
    for (const entry of page.items) types.add(entry.dict_type)
    cursor = page.next_cursor
    if (cursor === null) break
  }
  return [...types].sort()
}
