import { flushPromises, mount } from '@vue/test-utils'
import { createI18n } from 'vue-i18n'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { RelayStatus } from '@/modules/events/api'
import en from '@/modules/events/locales/en'

// The on-demand resolver adds each Element Plus component's CSS import; Node cannot load CSS
// from node_modules, and these tests look at behaviour, not looks.
vi.mock('element-plus/es/components/base/style/css', () => ({}))
vi.mock('element-plus/es/components/button/style/css', () => ({}))
vi.mock('element-plus/es/components/tag/style/css', () => ({}))
vi.mock('element-plus/es/components/card/style/css', () => ({}))
vi.mock('element-plus/es/components/alert/style/css', () => ({}))
vi.mock('element-plus/es/components/descriptions/style/css', () => ({}))
vi.mock('element-plus/es/components/descriptions-item/style/css', () => ({}))
vi.mock('element-plus/es/components/table/style/css', () => ({}))
vi.mock('element-plus/es/components/table-column/style/css', () => ({}))
vi.mock('element-plus/es/components/skeleton/style/css', () => ({}))

const relayStatus = vi.fn<(signal?: AbortSignal) => Promise<RelayStatus>>()
vi.mock('@/modules/events/api', () => ({ relayStatus: (s?: AbortSignal) => relayStatus(s) }))

const { default: RelayStatusPage } = await import('@/modules/events/RelayStatus.vue')

function status(over: Partial<RelayStatus>): RelayStatus {
  return {
    holder: 'host-1:4242:ab12',
    lease_until: '2026-11-28T03:00:05Z',
    heartbeat_at: '2026-11-28T03:00:00Z',
    epoch: 3,
    broker: false,
    sequenced_through: 17,
    published_through: 15,
    trimmed_through: 0,
    backlog: 2,
    oldest_unpublished_age_seconds: 192.4,
    errors: [],
    ...over,
  }
}

function mountPage() {
  const i18n = createI18n({ legacy: false, locale: 'en', messages: { en, 'zh-CN': {} } })
  return mount(RelayStatusPage, {
    global: { plugins: [i18n], stubs: { 'router-link': { template: '<a><slot /></a>' } } },
  })
}

const text = (wrapper: ReturnType<typeof mountPage>, id: string) =>
  wrapper.get(`[data-testid="events-relay-${id}"]`).text()

describe('the relay page', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    relayStatus.mockReset()
  })
  afterEach(() => vi.useRealTimers())

  it('shows the holder, the marks, the backlog and how long the oldest event waits', async () => {
    relayStatus.mockResolvedValue(
      status({ errors: [{ at: '2026-11-28T02:59:00Z', message: 'broker: connection refused' }] }),
    )
    const wrapper = mountPage()
    await flushPromises()
    expect(text(wrapper, 'holder')).toBe('host-1:4242:ab12')
    expect(text(wrapper, 'state')).toBe('Running')
    expect(wrapper.find('[data-testid="events-relay-none"]').exists()).toBe(false)
    expect(text(wrapper, 'broker')).toBe('Pull feed only (no broker configured)')
    expect(text(wrapper, 'backlog')).toBe('2')
    expect(text(wrapper, 'age')).toBe('3 min 12 s')
    expect(text(wrapper, 'sequenced')).toBe('17')
    expect(text(wrapper, 'published')).toBe('15')
    expect(text(wrapper, 'errors')).toContain('broker: connection refused')
    wrapper.unmount()
  })

  it('says when no relay is active and when nothing waits', async () => {
    relayStatus.mockResolvedValue(
      status({ holder: null, lease_until: null, broker: true, backlog: 0, oldest_unpublished_age_seconds: null }),
    )
    const wrapper = mountPage()
    await flushPromises()
    expect(text(wrapper, 'state')).toBe('No relay active')
    expect(wrapper.find('[data-testid="events-relay-none"]').exists()).toBe(true)
    expect(text(wrapper, 'broker')).toBe('Message broker (RabbitMQ)')
    expect(text(wrapper, 'age')).toBe('nothing waiting')
    wrapper.unmount()
  })

  it('refreshes every few seconds while open, on demand, and not once left', async () => {
    relayStatus.mockResolvedValueOnce(status({ backlog: 5 })).mockResolvedValue(status({ backlog: 0 }))
    const wrapper = mountPage()
    await flushPromises()
    expect(text(wrapper, 'backlog')).toBe('5')
    await vi.advanceTimersByTimeAsync(3000)
    expect(relayStatus).toHaveBeenCalledTimes(2)
    expect(text(wrapper, 'backlog')).toBe('0')

    await wrapper.get('[data-testid="events-relay-refresh"]').trigger('click')
    await flushPromises()
    expect(relayStatus).toHaveBeenCalledTimes(3)

    wrapper.unmount()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(relayStatus).toHaveBeenCalledTimes(3)
  })

  it('shows a failed load and keeps polling', async () => {
    relayStatus.mockRejectedValueOnce(new Error('network down')).mockResolvedValue(status({}))
    const wrapper = mountPage()
    await flushPromises()
    expect(wrapper.get('[data-testid="list-error"]').text()).toBe('network down')
    await vi.advanceTimersByTimeAsync(3000)
    expect(wrapper.find('[data-testid="list-error"]').exists()).toBe(false)
    expect(text(wrapper, 'holder')).toBe('host-1:4242:ab12')
    wrapper.unmount()
  })
})
