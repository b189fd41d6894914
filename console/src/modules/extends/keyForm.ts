/** The extension-key dialog's form, apart from the page: its checks and the bodies it sends. */

import type { ExtendKey, ExtendKeyChanges, ExtendKeyIn, ExtendType } from './api'

export interface KeyForm {
  key: string
  label: string
  type: ExtendType
  /** One option a line (enum keys). */
  optionsText: string
  /** 0: no limit of its own. */
  maxLength: number
  isUserEditable: boolean
  sortOrder: number
}

export const KEY_PATTERN = /^[a-z][a-z0-9_]{0,63}$/

export function blankForm(sortOrder = 0): KeyForm {
  return {
    key: '',
    label: '',
    type: 'string',
    optionsText: '',
    maxLength: 0,
    isUserEditable: false,
    sortOrder,
  }
}

export function formOf(row: ExtendKey): KeyForm {
  return {
    key: row.key,
    label: row.label,
    type: row.type as ExtendType,
    optionsText: (row.options ?? []).join('\n'),
    maxLength: row.max_length ?? 0,
    isUserEditable: row.is_user_editable,
    sortOrder: row.sort_order,
  }
}

/** The options one a line, trimmed, blank lines left out. */
export function parseOptions(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
}

/** null when the options suit the type, else the i18n key of the problem. */
export function checkOptions(type: ExtendType, text: string): string | null {
  const options = parseOptions(text)
  if (type !== 'enum') return null
  if (options.length === 0) return 'extends.optionsRequired'
  if (new Set(options).size !== options.length) return 'extends.optionsDuplicate'
  if (options.some((o) => o.length > 64)) return 'extends.optionTooLong'
  return null
}

/** Whether a maximum length means anything for the type (not for booleans and dates). */
export function hasLength(type: ExtendType): boolean {
  return type !== 'boolean' && type !== 'date'
}

export function createBody(form: KeyForm): ExtendKeyIn {
  return {
    key: form.key.trim(),
    label: form.label.trim(),
    type: form.type,
    options: form.type === 'enum' ? parseOptions(form.optionsText) : null,
    max_length: hasLength(form.type) && form.maxLength > 0 ? form.maxLength : null,
    is_user_editable: form.isUserEditable,
    sort_order: form.sortOrder,
  }
}

/** What changed between the key as loaded and the form (a key's type never changes). */
export function changesOf(row: ExtendKey, form: KeyForm): ExtendKeyChanges {
  const body = createBody({ ...form, type: row.type as ExtendType })
  const changes: ExtendKeyChanges = {}
  if (body.label !== row.label) changes.label = body.label
  if (row.type === 'enum' && JSON.stringify(body.options) !== JSON.stringify(row.options)) {
    changes.options = body.options ?? []
  }
  if (body.max_length !== row.max_length) changes.max_length = body.max_length
  if (body.is_user_editable !== row.is_user_editable) changes.is_user_editable = body.is_user_editable
  if (body.sort_order !== row.sort_order) changes.sort_order = body.sort_order
  return changes
}
