/** Configuration values travel as text; each value type has its editor and its check. */

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
