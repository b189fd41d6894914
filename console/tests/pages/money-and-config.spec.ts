import { describe, expect, it } from 'vitest'
import { toSmallestUnit } from '@/composables/money'
import { checkValue, kindOf } from '@/modules/system/configValue'

describe('toSmallestUnit', () => {
  it('turns yuan into fen without floating point', () => {
    expect(toSmallestUnit('CNY', '12.3')).toBe(1230)
    expect(toSmallestUnit('CNY', '0.29')).toBe(29)
    expect(toSmallestUnit('CNY', '-5')).toBe(-500)
    expect(toSmallestUnit('CNY', ' 100.00 ')).toBe(10000)
  })

  it('takes coins and points whole', () => {
    expect(toSmallestUnit('COIN_GIVE', '1500')).toBe(1500)
    expect(toSmallestUnit('POINTS', '-20')).toBe(-20)
    expect(toSmallestUnit('POINTS', '1.5')).toBeNull()
  })

  it('refuses zero, junk, three decimals and unsafe sizes', () => {
    expect(toSmallestUnit('CNY', '0')).toBeNull()
    expect(toSmallestUnit('CNY', '0.00')).toBeNull()
    expect(toSmallestUnit('CNY', '1.234')).toBeNull()
    expect(toSmallestUnit('CNY', 'abc')).toBeNull()
    expect(toSmallestUnit('CNY', '')).toBeNull()
    expect(toSmallestUnit('COIN_GIVE', '99999999999999999999')).toBeNull()
  })
})

describe('configuration values', () => {
  it('maps value types to editors', () => {
    expect(kindOf('integer')).toBe('int')
    expect(kindOf('BOOL')).toBe('bool')
    expect(kindOf('json')).toBe('json')
    expect(kindOf('string')).toBe('string')
    expect(kindOf('something-new')).toBe('string')
  })

  it('checks a value against its type', () => {
    expect(checkValue('int', '42')).toBeNull()
    expect(checkValue('int', '4.2')).toBe('system.badInt')
    expect(checkValue('decimal', '4.2')).toBeNull()
    expect(checkValue('bool', 'true')).toBeNull()
    expect(checkValue('bool', 'yes')).toBe('system.badBool')
    expect(checkValue('json', '{"a": 1}')).toBeNull()
    expect(checkValue('json', '{a: 1}')).toBe('system.badJson')
    expect(checkValue('string', '')).toBeNull()
  })
})
