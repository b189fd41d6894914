/**
 * Amounts typed by an operator into the smallest unit the API takes: yuan with up to two
 * decimals become fen for CNY, coins and points are whole numbers. String arithmetic, no
 * floats (0.1 + 0.2). `null` for anything not a well-formed, non-zero, safe integer amount.
 */
export function toSmallestUnit(asset: string, text: string): number | null {
  const s = text.trim()
  const decimals = asset === 'CNY' ? 2 : 0
  const pattern = decimals ? /^(-?)(\d+)(?:\.(\d{1,2}))?$/ : /^(-?)(\d+)$/
  const m = pattern.exec(s)
  if (!m) return null
  const [, sign, whole, frac = ''] = m
  const digits = (whole ?? '') + frac.padEnd(decimals, '0')
  const value = Number(digits)
  if (!Number.isSafeInteger(value) || value === 0) return null
  return sign === '-' ? -value : value
}
