import { describe, expect, it } from 'vitest'
import type { DeviceRow } from '@/modules/users/api'
import {
  CONSENT_KINDS,
  consentStates,
  consentTag,
  deviceText,
  joinParts,
  regionText,
  streetLine,
} from '@/modules/users/profileTabs'

const part = (code: string, name: string): { code: string; name: string } => ({ code, name })

describe('addresses tab', () => {
  it('names the region by its three levels', () => {
    expect(
      regionText({
        province: part('440000', '广东省'),
        city: part('440100', '广州市'),
        district: part('440106', '天河区'),
      }),
    ).toBe('广东省 广州市 天河区')
  })

  it('says a municipality (its own city) once', () => {
    expect(
      regionText({
        province: part('110000', '北京市'),
        city: part('110000', '北京市'),
        district: part('110101', '东城区'),
      }),
    ).toBe('北京市 东城区')
    expect(regionText(null)).toBe('—')
  })

  it('puts street and detail on one line, a dash for neither', () => {
    expect(streetLine('石牌街道', '天河路**')).toBe('石牌街道 天河路**')
    expect(streetLine(null, '天河路**')).toBe('天河路**')
    expect(streetLine(' ', '')).toBe('—')
  })
})

describe('devices tab', () => {
  const device: DeviceRow = {
    platform: 'APP',
    device_id: 'ab****yz',
    vendor: 'Apple',
    model: 'iPhone15,2',
    os_name: 'iOS',
    os_version: null,
    client_name: null,
    client_version: null,
    channel: null,
    push_token: null,
    updated_at: '2026-11-28T00:00:00Z',
  }

  it('joins the parts there are', () => {
    expect(joinParts('a', null, ' ', 'b')).toBe('a b')
    expect(joinParts(undefined, null)).toBe('—')
    expect(deviceText(device)).toEqual({ hardware: 'Apple iPhone15,2', system: 'iOS', client: '—' })
  })
})

describe('consents tab', () => {
  it('lists every kind, answered or not, with a newer policy to accept', () => {
    const states = consentStates(
      [
        { kind: 'marketing', granted: true, version: null, changed_at: '2026-11-28T01:00:00Z' },
        { kind: 'location', granted: false, version: null, changed_at: '2026-11-28T02:00:00Z' },
        { kind: 'privacy_policy', granted: true, version: '2026-01', changed_at: '2026-11-28T03:00:00Z' },
      ],
      [{ kind: 'privacy_policy', version: '2026-11' }],
    )
    expect(states.map((s) => s.kind)).toEqual([...CONSENT_KINDS])
    expect(states.find((s) => s.kind === 'marketing')?.state).toBe('granted')
    expect(states.find((s) => s.kind === 'location')?.state).toBe('withdrawn')
    expect(states.find((s) => s.kind === 'terms')).toMatchObject({ state: 'never', changedAt: null })
    expect(states.find((s) => s.kind === 'privacy_policy')).toMatchObject({
      version: '2026-01',
      pendingVersion: '2026-11',
    })
  })

  it('keeps a kind the console does not know, after the known ones', () => {
    const states = consentStates([{ kind: 'biometrics', granted: true, version: null, changed_at: 'x' }], [])
    expect(states[states.length - 1]).toMatchObject({ kind: 'biometrics', state: 'granted' })
  })

  it('colours the states', () => {
    expect(consentTag('granted')).toBe('success')
    expect(consentTag('withdrawn')).toBe('warning')
    expect(consentTag('never')).toBe('info')
  })
})
