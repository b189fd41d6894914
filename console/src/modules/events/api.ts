import type { Schemas } from '@usercenter/client'
import { api } from '@/api'

export type RelayStatus = Schemas['RelayStatusOut']
export type RelayError = Schemas['RelayErrorOut']
export type EventRow = Schemas['EventRowOut']
export type EventRowPage = Schemas['EventRowPage']
export type EventType = Schemas['EventTypeOut']

/** The browser's filters: an exact event type and an exact subject (`users/42`). */
export interface EventFilters {
  type: string
  subject: string
}

/** Who holds the relay's lease, its marks, the backlog and its last errors. */
export function relayStatus(signal?: AbortSignal): Promise<RelayStatus> {
  return api.GET('/v1/admin/events/relay', { signal })
}

/** Events newest first, one keyset page. */
export function listEvents(
  cursor: string | null,
  limit: number,
  filters: EventFilters,
): Promise<EventRowPage> {
  return api.GET('/v1/admin/events', {
    params: {
      query: {
        cursor: cursor ?? undefined,
        limit,
        type: filters.type.trim() || undefined,
        subject: filters.subject.trim() || undefined,
      },
    },
  })
}

/** Every event type the server declares, for the type filter. */
export function listEventTypes(): Promise<EventType[]> {
  return api.GET('/v1/admin/events/types', {})
}
