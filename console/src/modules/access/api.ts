import { api } from '@/api'
import type { CursorPage } from '@/composables/useCursorList'
import { idParam } from '@/composables/ids'

export interface PermissionNode {
  id: number
  code: string
  name: string
  kind: string
  path: string | null
  sort_order: number
  status: string
  scopes: string[]
  children: PermissionNode[]
}

export interface Role {
  id: number
  code: string
  name: string
  audience: string
  description: string | null
  status: string
  permissions: string[]
}

export interface Grant {
  id: string
  subject: string
  role: string
  scope_type: string | null
  scope_id: string | null
  created_at: string
}

export interface StaffRow {
  id: string
  username: string
  display_name: string | null
  status: string
  totp_enabled: boolean
  user_id: string | null
  related_partner_id: string | null
  last_login_at: string | null
  last_login_ip: string | null
  created_at: string
}

export interface AuditRow {
  id: string
  staff_id: string | null
  username: string | null
  action: string
  module: string
  method: string
  path: string
  target_type: string | null
  target_id: string | null
  request: string | null
  result: string
  ip: string | null
  user_agent: string | null
  created_at: string
}

export interface AuditFilters {
  staff_id: string
  action: string
  target_type: string
  target_id: string
  range: [Date, Date] | null
  /** Leave out the reads that went through (reveals of personal data stay). */
  changes_only: boolean
}

// --- permissions ---
export function permissionTree(): Promise<PermissionNode[]> {
  return api.GET('/v1/admin/permissions', {})
}

export function createPermission(body: {
  code: string
  name: string
  kind: 'menu' | 'button' | 'api'
  parent_id: number | null
  path: string | null
  sort_order: number
}): Promise<PermissionNode> {
  return api.POST('/v1/admin/permissions', { body })
}

export function updatePermission(
  id: number,
  changes: { name?: string; path?: string | null; sort_order?: number; status?: 'active' | 'disabled' },
): Promise<PermissionNode> {
  return api.PATCH('/v1/admin/permissions/{permission_id}', {
    params: { path: { permission_id: id } },
    body: changes,
  })
}

// --- roles ---
export function listRoles(): Promise<Role[]> {
  return api.GET('/v1/admin/roles', {})
}

export function createRole(body: {
  code: string
  name: string
  audience: 'staff' | 'user'
  description: string | null
  permissions: string[]
}): Promise<Role> {
  return api.POST('/v1/admin/roles', { body })
}

export function updateRole(
  id: number,
  changes: {
    name?: string
    description?: string | null
    status?: 'active' | 'disabled'
    permissions?: string[]
  },
): Promise<Role> {
  return api.PATCH('/v1/admin/roles/{role_id}', { params: { path: { role_id: id } }, body: changes })
}

// --- grants ---
export function grantsOf(subject: string): Promise<Grant[]> {
  return api.GET('/v1/admin/grants', { params: { query: { subject } } })
}

export function createGrant(body: {
  subject: string
  role: string
  scope_type: 'agency' | 'merchant' | null
  scope_id: string | null
}): Promise<Grant> {
  return api.POST('/v1/admin/grants', {
    body: { ...body, scope_id: body.scope_id === null ? null : idParam(body.scope_id) },
  })
}

export async function revokeGrant(id: string): Promise<void> {
  await api.DELETE('/v1/admin/grants/{grant_id}', { params: { path: { grant_id: idParam(id) } } })
}

// --- staff ---
export function listStaff(cursor: string | null, limit: number): Promise<CursorPage<StaffRow>> {
  return api.GET('/v1/admin/staff', { params: { query: { cursor: cursor ?? undefined, limit } } })
}

export function createStaff(body: {
  username: string
  password: string
  display_name: string | null
  roles: string[]
}): Promise<StaffRow> {
  return api.POST('/v1/admin/staff', { body })
}

export function setStaffStatus(id: string, status: 'active' | 'disabled'): Promise<StaffRow> {
  return api.POST('/v1/admin/staff/{staff_id}/status', {
    params: { path: { staff_id: idParam(id) } },
    body: { status },
  })
}

export async function resetStaffTotp(id: string): Promise<void> {
  await api.POST('/v1/admin/staff/{staff_id}/totp/reset', {
    params: { path: { staff_id: idParam(id) } },
  })
}

// --- audit log ---
export function auditLog(
  cursor: string | null,
  limit: number,
  f: AuditFilters,
): Promise<CursorPage<AuditRow>> {
  const text = (v: string): string | undefined => (v.trim() === '' ? undefined : v.trim())
  return api.GET('/v1/admin/audit-log', {
    params: {
      query: {
        cursor: cursor ?? undefined,
        limit,
        staff_id: f.staff_id.trim() ? idParam(f.staff_id.trim()) : undefined,
        action: text(f.action),
        target_type: text(f.target_type),
        target_id: text(f.target_id),
        since: f.range ? f.range[0].toISOString() : undefined,
        until: f.range ? f.range[1].toISOString() : undefined,
        changes_only: f.changes_only,
      },
    },
  })
}
