/** The event browser's pure pieces: filters kept in the URL, subjects that link somewhere. */
import type { LocationQuery, LocationQueryRaw } from 'vue-router'
import type { EventFilters } from './api'

function first(value: LocationQuery[string] | undefined): string {
  const one = Array.isArray(value) ? value[0] : value
  return typeof one === 'string' ? one.trim() : ''
}

/** `?type=…&subject=…` as the browser's filters (anything else in the URL is ignored). */
export function filtersFromQuery(query: LocationQuery): EventFilters {
  return { type: first(query.type), subject: first(query.subject) }
}

/** The filters trimmed; a cleared select (undefined or null) counts as empty. */
export function cleanFilters(filters: {
  type?: string | null
  subject?: string | null
}): EventFilters {
  return { type: (filters.type ?? '').trim(), subject: (filters.subject ?? '').trim() }
}

/** The filters as a URL query, leaving out the empty ones. */
export function queryOfFilters(filters: EventFilters): LocationQueryRaw {
  const clean = cleanFilters(filters)
  const query: LocationQueryRaw = {}
  if (clean.type) query.type = clean.type
  if (clean.subject) query.subject = clean.subject
  return query
}

/** The user id of a `users/<id>` subject, for a link to the user's page; null otherwise. */
export function userIdOfSubject(subject: string): string | null {
  const match = /^users\/(\d{1,19})$/.exec(subject)
  return match ? match[1]! : null
}

/** An event's data as indented JSON. */
export function prettyData(data: Record<string, unknown>): string {
  return JSON.stringify(data, null, 2)
}
