import { createI18n } from 'vue-i18n'
import { moduleMessages } from '@/modules'
import en from './locales/en'
import zhCN from './locales/zh-CN'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
export const LOCALE_KEY = 'uc.console.locale'

export function savedLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(LOCALE_KEY)
  return (LOCALES as readonly string[]).includes(saved ?? '') ? (saved as Locale) : 'zh-CN'
}

export const messages = {
  'zh-CN': { ...zhCN, ...moduleMessages['zh-CN'] },
  en: { ...en, ...moduleMessages.en },
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: 'zh-CN',
  messages,
  missingWarn: false,
  fallbackWarn: false,
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  globalThis.localStorage?.setItem(LOCALE_KEY, locale)
  document.documentElement.lang = locale
}
