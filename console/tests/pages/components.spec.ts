import { mount } from '@vue/test-utils'
import { nextTick, ref } from 'vue'
import { createI18n } from 'vue-i18n'
import { describe, expect, it, vi } from 'vitest'
import CursorPager from '@/components/CursorPager.vue'
import MaskedValue from '@/components/MaskedValue.vue'
import { componentMessages } from '@/components/messages'

// The on-demand resolver adds each Element Plus component's CSS import; Node cannot load CSS
// from node_modules, and these tests look at behaviour, not looks.
vi.mock('element-plus/es/components/base/style/css', () => ({}))
vi.mock('element-plus/es/components/button/style/css', () => ({}))
vi.mock('element-plus/es/components/tag/style/css', () => ({}))

function i18n(locale: 'zh-CN' | 'en') {
  return createI18n({ legacy: false, locale, messages: { 'zh-CN': {}, en: {} } })
}

describe('CursorPager', () => {
  it('pages the list it is given: its state shown, its prev and next called', async () => {
    const calls: string[] = []
    const list = {
      page: ref(2),
      hasPrev: ref(true),
      hasNext: ref(false),
      loading: ref(false),
      prev: () => calls.push('prev'),
      next: () => calls.push('next'),
    }
    const wrapper = mount(CursorPager, {
      props: { list, testid: 'l' },
      global: { plugins: [i18n('en')] },
    })
    expect(wrapper.get('[data-testid="l-page"]').text()).toBe('Page 2')
    expect(wrapper.get('[data-testid="l-next"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="l-prev"]').trigger('click')
    expect(calls).toEqual(['prev'])

    list.loading.value = true
    await nextTick()
    expect(wrapper.get('[data-testid="l-prev"]').attributes('disabled')).toBeDefined()
  })

  it('disables what cannot be done and says which page it is on', async () => {
    const wrapper = mount(CursorPager, {
      props: { page: 1, hasPrev: false, hasNext: true, testid: 'p' },
      global: { plugins: [i18n('en')] },
    })
    const prev = wrapper.get('[data-testid="p-prev"]')
    const next = wrapper.get('[data-testid="p-next"]')
    expect(prev.attributes('disabled')).toBeDefined()
    expect(next.attributes('disabled')).toBeUndefined()
    expect(wrapper.get('[data-testid="p-page"]').text()).toBe('Page 1')

    await next.trigger('click')
    expect(wrapper.emitted('next')).toHaveLength(1)

    await wrapper.setProps({ page: 2, hasPrev: true, hasNext: false })
    expect(wrapper.get('[data-testid="p-prev"]').attributes('disabled')).toBeUndefined()
    expect(wrapper.get('[data-testid="p-next"]').attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="p-prev"]').trigger('click')
    expect(wrapper.emitted('prev')).toHaveLength(1)
  })

  it('speaks Chinese by default and disables both while loading', () => {
    const wrapper = mount(CursorPager, {
      props: { page: 3, hasPrev: true, hasNext: true, loading: true },
      global: { plugins: [i18n('zh-CN')] },
    })
    expect(wrapper.get('[data-testid="pager-page"]').text()).toBe('第 3 页')
    expect(wrapper.get('[data-testid="pager-prev"]').attributes('disabled')).toBeDefined()
    expect(wrapper.get('[data-testid="pager-next"]').attributes('disabled')).toBeDefined()
  })
})

describe('MaskedValue', () => {
  it('marks a masked identifier as masked, and a revealed one not', async () => {
    const wrapper = mount(MaskedValue, {
      props: { value: '138****5678' },
      global: { plugins: [i18n('en')] },
    })
    expect(wrapper.text()).toContain('138****5678')
    expect(wrapper.text()).toContain('masked')
    await wrapper.setProps({ value: '13812345678', revealed: true })
    expect(wrapper.text()).not.toContain('masked')
  })
})

describe('component messages', () => {
  it('have the same keys in both languages', () => {
    expect(Object.keys(componentMessages.en).sort()).toEqual(
      Object.keys(componentMessages['zh-CN']).sort(),
    )
  })
})
