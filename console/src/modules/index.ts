// Collects every module: `./<m>/routes.ts` (default export: RouteRecordRaw[]) become children
// of the layout, `./<m>/locales/{zh-CN,en}.ts` (default export: { <m>: {...} }) are merged into
// the i18n messages. A module never edits this file.
import type { RouteRecordRaw } from 'vue-router'

type Messages = Record<string, unknown>

const routeFiles = import.meta.glob<{ default: RouteRecordRaw[] }>('./*/routes.ts', {
  eager: true,
})
const zhFiles = import.meta.glob<{ default: Messages }>('./*/locales/zh-CN.ts', { eager: true })
const enFiles = import.meta.glob<{ default: Messages }>('./*/locales/en.ts', { eager: true })

function sortedValues<T>(files: Record<string, T>): T[] {
  return Object.keys(files)
    .sort()
    .map((key) => files[key] as T)
}

export const moduleRoutes: RouteRecordRaw[] = sortedValues(routeFiles).flatMap((m) => m.default)

function merge(files: Record<string, { default: Messages }>): Messages {
  return Object.assign({}, ...sortedValues(files).map((m) => m.default)) as Messages
}

export const moduleMessages = {
  'zh-CN': merge(zhFiles),
  en: merge(enFiles),
}

/** File-by-file locale trees, for the key parity test. */
export const moduleLocaleFiles = { 'zh-CN': zhFiles, en: enFiles }
