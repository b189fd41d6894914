import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { defineComponent } from 'vue'
import { vPerm } from '@/directives/perm'
import { useAuth } from '@/stores/auth'

const Buttons = defineComponent({
  directives: { perm: vPerm },
  template: `
    <div>
      <button data-testid="approve" v-perm="'wallet:adjust:approve'">approve</button>
      <button data-testid="apply" v-perm="'wallet:adjust:apply'">apply</button>
      <button data-testid="any" v-perm="['role:manage', 'wallet:adjust:apply']">any</button>
      <button data-testid="none" v-perm="['role:manage', 'staff:manage']">none</button>
    </div>`,
})

describe('v-perm', () => {
  beforeEach(() => {
    const pinia = createPinia()
    setActivePinia(pinia)
    useAuth().me = {
      id: '1',
      username: 'fin',
      display_name: null,
      status: 'active',
      permissions: ['wallet:adjust:apply'],
      scopes: {},
      totp_enrolment_required: false,
    }
  })

  it('removes the elements whose permission the operator lacks', () => {
    const wrapper = mount(Buttons)
    expect(wrapper.find('[data-testid="apply"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="approve"]').exists()).toBe(false)
  })

  it('an array means any of them', () => {
    const wrapper = mount(Buttons)
    expect(wrapper.find('[data-testid="any"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="none"]').exists()).toBe(false)
  })
})
