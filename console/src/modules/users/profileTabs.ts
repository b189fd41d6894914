/** The pure pieces of the user detail's addresses, verification, consents and devices tabs. */

import type { ConsentRow, DeviceRow, RequiredConsent, ResolvedRegion } from './api'

/** The consent kinds the tab always lists, answered or not (policies first). */
export const CONSENT_KINDS = ['privacy_policy', 'terms', 'location', 'marketing', 'real_name'] as const

/** `广东省 广州市 天河区`; a level equal to the one above (a municipality is its own city, a
 * city without counties its own district) is said once: `北京市 东城区`. */
export function regionText(region: ResolvedRegion | null | undefined): string {
  if (!region) return '—'
  const parts: string[] = []
  for (const part of [region.province, region.city, region.district]) {
    if (!part?.name) continue
    if (parts[parts.length - 1] !== part.name) parts.push(part.name)
  }
  return parts.length ? parts.join(' ') : '—'
}

/** The street and the detail on one line (the detail masked unless revealed). */
export function streetLine(street: string | null | undefined, detail: string | null | undefined): string {
  const parts = [street, detail].map((p) => (p ?? '').trim()).filter((p) => p !== '')
  return parts.length ? parts.join(' ') : '—'
}

/** The parts that are there, joined by a space (`Apple iPhone15,2`, `iOS 18.1`); `—` if none. */
export function joinParts(...parts: (string | null | undefined)[]): string {
  const present = parts.map((p) => (p ?? '').trim()).filter((p) => p !== '')
  return present.length ? present.join(' ') : '—'
}

/** A device's hardware, system and client, as the devices tab shows them. */
export function deviceText(row: DeviceRow): { hardware: string; system: string; client: string } {
  return {
    hardware: joinParts(row.vendor, row.model),
    system: joinParts(row.os_name, row.os_version),
    client: joinParts(row.client_name, row.client_version),
  }
}

/** What the consents tab shows for one kind. */
export interface ConsentState {
  kind: string
  /** `granted`, `withdrawn` or `never` (no answer recorded). */
  state: 'granted' | 'withdrawn' | 'never'
  version: string | null
  changedAt: string | null
  /** The version in force the user still has to accept (policies), else null. */
  pendingVersion: string | null
}

/** Every known kind (and any other the server answered), in a fixed order, with its state and
 * whether a newer policy version waits for acceptance. */
export function consentStates(items: ConsentRow[], required: RequiredConsent[]): ConsentState[] {
  const kinds: string[] = [...CONSENT_KINDS]
  for (const item of items) if (!kinds.includes(item.kind)) kinds.push(item.kind)
  return kinds.map((kind) => {
    const row = items.find((i) => i.kind === kind)
    const pending = required.find((r) => r.kind === kind)
    return {
      kind,
      state: !row ? 'never' : row.granted ? 'granted' : 'withdrawn',
      version: row?.version ?? null,
      changedAt: row?.changed_at ?? null,
      pendingVersion: pending?.version ?? null,
    }
  })
}

/** The tag colour of a consent state. */
export function consentTag(state: ConsentState['state']): 'success' | 'info' | 'warning' {
  if (state === 'granted') return 'success'
  if (state === 'withdrawn') return 'warning'
  return 'info'
}
