import { describe, expect, it } from 'vitest'
import type { ExtendKey } from '@/modules/extends/api'
import {
  blankForm,
  changesOf,
  checkOptions,
  createBody,
  formOf,
  hasLength,
  parseOptions,
} from '@/modules/extends/keyForm'
import { actorText, attributeName, changeText } from '@/modules/users/changes'

const sizeKey: ExtendKey = {
  key: 'size',
  label: '尺码',
  type: 'enum',
  options: ['S', 'M'],
  max_length: null,
  is_user_editable: false,
  status: 'active',
  sort_order: 10,
  created_at: '2026-11-28T00:00:00Z',
  updated_at: '2026-11-28T00:00:00Z',
}

describe('extension key form', () => {
  it('reads options one a line, blank lines left out', () => {
    expect(parseOptions(' S \n\nM\n L')).toEqual(['S', 'M', 'L'])
    expect(parseOptions('')).toEqual([])
  })

  it('wants options for an enum, distinct and short, and none checked for the others', () => {
    expect(checkOptions('enum', '')).toBe('extends.optionsRequired')
    expect(checkOptions('enum', 'S\nS')).toBe('extends.optionsDuplicate')
    expect(checkOptions('enum', 'x'.repeat(65))).toBe('extends.optionTooLong')
    expect(checkOptions('enum', 'S\nM')).toBeNull()
    expect(checkOptions('string', '')).toBeNull()
  })

  it('sends options only for an enum and a length only where one means something', () => {
    const text = createBody({ ...blankForm(), key: ' school ', label: ' 学校 ', maxLength: 20, optionsText: 'a' })
    expect(text).toMatchObject({ key: 'school', label: '学校', type: 'string', options: null, max_length: 20 })
    const flag = createBody({ ...blankForm(), key: 'smoker', label: '吸烟', type: 'boolean', maxLength: 5 })
    expect(flag.max_length).toBeNull()
    expect(hasLength('date')).toBe(false)
    const choice = createBody({ ...blankForm(), key: 'size', label: '尺码', type: 'enum', optionsText: 'S\nM' })
    expect(choice.options).toEqual(['S', 'M'])
    expect(createBody({ ...blankForm(), key: 'n', label: 'n', maxLength: 0 }).max_length).toBeNull()
  })

  it('sends only what changed when editing', () => {
    const form = formOf(sizeKey)
    expect(form.optionsText).toBe('S\nM')
    expect(changesOf(sizeKey, form)).toEqual({})
    form.optionsText = 'S\nM\nL'
    form.isUserEditable = true
    form.label = '衣码'
    expect(changesOf(sizeKey, form)).toEqual({
      options: ['S', 'M', 'L'],
      is_user_editable: true,
      label: '衣码',
    })
  })
})

describe('change log rows', () => {
  it('names grouped attributes, known fields, and shows others as they are', () => {
    expect(attributeName('extends.level')).toEqual({ labelKey: 'users.changes.group.extends', detail: 'level' })
    expect(attributeName('payment_password')).toEqual({
      labelKey: 'users.changes.group.payment_password',
      detail: '',
    })
    expect(attributeName('nickname')).toEqual({ labelKey: 'users.changes.field.nickname', detail: '' })
    expect(attributeName('wechat_miniapp')).toEqual({ labelKey: null, detail: 'wechat_miniapp' })
  })

  it('says who made a change', () => {
    expect(actorText({ actor: 'staff', actor_id: '7' })).toEqual({ key: 'users.changes.actor.staff', id: '7' })
    expect(actorText({ actor: 'user', actor_id: null })).toEqual({ key: 'users.changes.actor.user', id: '' })
    expect(actorText({ actor: 'robot', actor_id: null }).key).toBe('users.changes.actor.system')
  })

  it('shows an absent side as a dash', () => {
    expect(changeText({ old_value: null, new_value: '3' })).toBe('— → 3')
    expect(changeText({ old_value: 'a', new_value: null })).toBe('a → —')
  })
})
