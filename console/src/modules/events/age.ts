/** How long an event has waited, for people: the two largest units, rounded down. */

export type AgeUnit = 'd' | 'h' | 'min' | 's'

const UNITS: [AgeUnit, number][] = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
]

/**
 * `[[3, 'min'], [12, 's']]` for 192.4 s: at most two units, the largest first, the second
 * left out when it is zero (`[[2, 'h']]` for 7 230 s). Under one second: `[]`.
 */
export function ageParts(seconds: number): [number, AgeUnit][] {
  let rest = Math.floor(Math.max(0, seconds))
  const parts: [number, AgeUnit][] = []
  for (const [unit, size] of UNITS) {
    if (parts.length === 0 && rest < size) continue
    const n = Math.floor(rest / size)
    rest -= n * size
    parts.push([n, unit])
    if (parts.length === 2) break
  }
  return parts.filter(([n], i) => i === 0 || n > 0)
}

/** The words of each unit (`{n}` is the count) and of the two cases without a number. */
export interface AgeWords {
  unit: (unit: AgeUnit, n: number) => string
  /** Under a second. */
  now: string
  /** Nothing waits (the server sends null). */
  none: string
}

export function formatAge(seconds: number | null | undefined, words: AgeWords): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return words.none
  const parts = ageParts(seconds)
  if (parts.length === 0) return words.now
  return parts.map(([n, unit]) => words.unit(unit, n)).join(' ')
}
