// v-perm="'wallet:adjust:approve'" or v-perm="['a', 'b']" (any of): the element is removed
// when the operator lacks the permission.
import type { Directive, DirectiveBinding } from 'vue'
import { useAuth } from '@/stores/auth'

export type PermValue = string | readonly string[]

function allowed(binding: DirectiveBinding<PermValue>): boolean {
  const auth = useAuth()
  const value = binding.value
  return typeof value === 'string' ? auth.can(value) : auth.canAny(value)
}

export const vPerm: Directive<HTMLElement, PermValue> = {
  mounted(el, binding) {
    if (!allowed(binding)) el.remove()
  },
  updated(el, binding) {
    if (!allowed(binding)) el.remove()
  },
}

export default vPerm
