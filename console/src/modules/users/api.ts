import { api } from '@/api'
import type { CursorPage } from '@/composables/useCursorList'
import { idParam } from '@/composables/ids'

export interface UserFilters {
  uid: string
  phone: string
  nickname: string
  status: string
}

export interface UserRow {
  id: string
  uid: string
  nickname: string | null
  status: string
  created_at: string
}

export interface IdentityRow {
  id: string
  type: string
  provider: string
  identifier: string
  created_at: string
}

export interface SessionRow {
  id: string
  platform: string
  login_method: string
  device_id: string | null
  device_name: string | null
  os_name: string | null
  client_version: string | null
  ip: string | null
  created_at: string
  last_active_at: string
  expires_at: string
}

export interface LoginRow {
  id: string
  kind: string
  method: string | null
  reason: string | null
  platform: string | null
  device_id: string | null
  os_name: string | null
  ip: string | null
  created_at: string
}

export interface UserDetail extends UserRow {
  identities: IdentityRow[]
  live_sessions: number
  sessions: SessionRow[]
  recent_logins: LoginRow[]
  pii_revealed: boolean
}

const blankToUndefined = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim())

export function searchUsers(
  cursor: string | null,
  limit: number,
  f: UserFilters,
): Promise<CursorPage<UserRow>> {
  return api.GET('/v1/admin/users', {
    params: {
      query: {
        uid: blankToUndefined(f.uid),
        phone: blankToUndefined(f.phone),
        nickname: blankToUndefined(f.nickname),
        status: blankToUndefined(f.status),
        cursor: cursor ?? undefined,
        limit,
      },
    },
  })
}

export function userDetail(id: string, reveal: boolean): Promise<UserDetail> {
  return api.GET('/v1/admin/users/{user_id}', {
    params: { path: { user_id: idParam(id) }, query: { reveal } },
  })
}

export function userLogins(
  id: string,
  cursor: string | null,
  limit: number,
): Promise<CursorPage<LoginRow>> {
  return api.GET('/v1/admin/users/{user_id}/logins', {
    params: { path: { user_id: idParam(id) }, query: { cursor: cursor ?? undefined, limit } },
  })
}

export async function disableUser(id: string): Promise<void> {
  await api.POST('/v1/admin/users/{user_id}/disable', { params: { path: { user_id: idParam(id) } } })
}

export async function enableUser(id: string): Promise<void> {
  await api.POST('/v1/admin/users/{user_id}/enable', { params: { path: { user_id: idParam(id) } } })
}

export async function revokeSessions(id: string): Promise<void> {
  await api.POST('/v1/admin/users/{user_id}/sessions/revoke', {
    params: { path: { user_id: idParam(id) } },
  })
}

export async function unbindIdentity(userId: string, identityId: string): Promise<void> {
  await api.DELETE('/v1/admin/users/{user_id}/identities/{identity_id}', {
    params: { path: { user_id: idParam(userId), identity_id: idParam(identityId) } },
  })
}

/** One entry of a user's change log (values masked by the server where personal). */
export interface ChangeRow {
  id: string
  action: string
  attribute: string
  old_value: string | null
  new_value: string | null
  actor: string
  actor_id: string | null
  ip: string | null
  created_at: string
}

export function userChanges(
  id: string,
  cursor: string | null,
  limit: number,
  attribute: string,
): Promise<CursorPage<ChangeRow>> {
  return api.GET('/v1/admin/users/{user_id}/changes', {
    params: {
      path: { user_id: idParam(id) },
      query: { cursor: cursor ?? undefined, limit, attribute: blankToUndefined(attribute) },
    },
  })
}

/** A region as the server resolves a district code: each level's code and name (a municipality
 * is its own city; a city without counties its own district). */
export interface RegionPart {
  code: string
  name: string
}

export interface ResolvedRegion {
  province: RegionPart
  city: RegionPart
  district: RegionPart
}

/** One of a user's addresses: receiver, phone and detail masked unless revealed. */
export interface AddressRow {
  id: string
  receiver_name: string
  receiver_phone: string
  region_code: string
  region: ResolvedRegion
  street: string | null
  detail: string
  postcode: string | null
  latitude: string | null
  longitude: string | null
  tag: string | null
  is_default: boolean
  created_at: string
  updated_at: string
}

export interface AddressList {
  items: AddressRow[]
  pii_revealed: boolean
}

/** The user's addresses; whole with `reveal` (user:pii:view — the server logs it). */
export async function userAddresses(id: string, reveal: boolean): Promise<AddressList> {
  return api.GET('/v1/admin/users/{user_id}/addresses', {
    params: { path: { user_id: idParam(id) }, query: { reveal } },
  })
}

/** A consent as it stands now (the latest grant or withdrawal of its kind). */
export interface ConsentRow {
  kind: string
  granted: boolean
  version: string | null
  changed_at: string
}

/** A policy whose version in force the user has not accepted yet. */
export interface RequiredConsent {
  kind: string
  version: string
}

/** One grant or withdrawal, with the client it came from (the address masked). */
export interface ConsentHistoryRow {
  kind: string
  granted: boolean
  version: string | null
  platform: string | null
  client_name: string | null
  client_version: string | null
  ip_masked: string | null
  created_at: string
}

export interface UserConsents {
  items: ConsentRow[]
  required: RequiredConsent[]
  history: ConsentHistoryRow[]
}

export async function userConsents(id: string): Promise<UserConsents> {
  return api.GET('/v1/admin/users/{user_id}/consents', {
    params: { path: { user_id: idParam(id) } },
  })
}

/** The latest client of a user on one platform (device id and push token masked). */
export interface DeviceRow {
  platform: string
  device_id: string | null
  vendor: string | null
  model: string | null
  os_name: string | null
  os_version: string | null
  client_name: string | null
  client_version: string | null
  channel: string | null
  push_token: string | null
  updated_at: string
}

export async function userDevices(id: string): Promise<DeviceRow[]> {
  const answer = await api.GET('/v1/admin/users/{user_id}/devices', {
    params: { path: { user_id: idParam(id) } },
  })
  return answer.items
}
