/** Configuration values travel as text; each value type has its editor and its check. */

import type { JsonValue } from './api'

export type ConfigKind = 'string' | 'int' | 'decimal' | 'bool' | 'json'

export function kindOf(valueType: string): ConfigKind {
  switch (valueType.toLowerCase()) {
    case 'int':
    case 'integer':
    case 'number':
      return 'int'
    case 'decimal':
    case 'float':
      return 'decimal'
    case 'bool':
    case 'boolean':
      return 'bool'
    case 'json':
    case 'object':
    case 'array':
      return 'json'
    default:
      return 'string'
  }
}

/** null when `text` is a well-formed value of `kind`, else the i18n key of the problem. */
export function checkValue(kind: ConfigKind, text: string): string | null {
  switch (kind) {
    case 'int':
      return /^-?\d+$/.test(text.trim()) ? null : 'system.badInt'
    case 'decimal':
      return /^-?\d+(\.\d+)?$/.test(text.trim()) ? null : 'system.badDecimal'
    case 'bool':
      return text === 'true' || text === 'false' ? null : 'system.badBool'
    case 'json':
      try {
        JSON.parse(text)
        return null
      } catch {
        return 'system.badJson'
      }
    default:
      return null
  }
}

/** The text an editor starts from, for a value as the server sent it. */
export function textOf(kind: ConfigKind, value: unknown): string {
  if (kind === 'json') return JSON.stringify(value, null, 2)
  if (value === null || value === undefined) return ''
  return typeof value === 'string' ? value : String(value)
}

/** The value to send for an editor's text (checked first with checkValue). */
export function valueOf(kind: ConfigKind, text: string): JsonValue {
  switch (kind) {
    case 'int':
      return Number.parseInt(text.trim(), 10)
    case 'decimal':
      return Number(text.trim())
    case 'bool':
      return text === 'true'
    case 'json':
      return JSON.parse(text) as JsonValue
    default:
      return text
  }
}
