/** How the change-log tab names a change: its attribute's group and key, and who made it. */

import type { ChangeRow } from './api'

/** The attribute groups the tab has a label for; anything else is shown as it is. */
export const ATTRIBUTE_GROUPS = [
  'extends',
  'address',
  'verification',
  'consent',
  'payment_password',
  'location',
  'device',
] as const

export interface AttributeName {
  /** The i18n key of the attribute (or its group), null when the tab has no label for it. */
  labelKey: string | null
  /** What follows the group (`level` of `extends.level`), '' for none. */
  detail: string
}

const FIELDS = ['nickname', 'avatar_url', 'gender', 'birthday', 'signature', 'phone', 'email', 'username', 'region']

/** `extends.level` -> the label of `extends` and `level`; `nickname` -> its label. */
export function attributeName(attribute: string): AttributeName {
  const dot = attribute.indexOf('.')
  const head = dot < 0 ? attribute : attribute.slice(0, dot)
  const detail = dot < 0 ? '' : attribute.slice(dot + 1)
  if ((ATTRIBUTE_GROUPS as readonly string[]).includes(head)) {
    return { labelKey: `users.changes.group.${head}`, detail }
  }
  if (dot < 0 && FIELDS.includes(head)) return { labelKey: `users.changes.field.${head}`, detail: '' }
  return { labelKey: null, detail: attribute }
}

/** The i18n key and parameters that say who made a change. */
export function actorText(row: Pick<ChangeRow, 'actor' | 'actor_id'>): { key: string; id: string } {
  const known = ['user', 'staff', 'service', 'system']
  const actor = known.includes(row.actor) ? row.actor : 'system'
  return { key: `users.changes.actor.${actor}`, id: row.actor_id ?? '' }
}

/** `old → new` as the table shows it: a dash for an absent side. */
export function changeText(row: Pick<ChangeRow, 'old_value' | 'new_value'>): string {
  return `${row.old_value ?? '—'} → ${row.new_value ?? '—'}`
}
