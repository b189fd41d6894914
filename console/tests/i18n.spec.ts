import { describe, expect, it } from 'vitest'
import en from '@/i18n/locales/en'
import zhCN from '@/i18n/locales/zh-CN'
import { moduleLocaleFiles } from '@/modules'

function keys(tree: unknown, prefix = ''): string[] {
  if (tree === null || typeof tree !== 'object') return [prefix]
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) =>
    keys(v, prefix ? `${prefix}.${k}` : k),
  )
}

function empty(tree: unknown, prefix = ''): string[] {
  if (typeof tree === 'string') return tree.trim() ? [] : [prefix]
  if (tree === null || typeof tree !== 'object') return [prefix]
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) =>
    empty(v, prefix ? `${prefix}.${k}` : k),
  )
}

describe('i18n', () => {
  it('the shell has every key in zh-CN and in English', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
    expect([...empty(en), ...empty(zhCN)]).toEqual([])
  })

  const modules = Object.keys(moduleLocaleFiles['zh-CN'])
    .concat(Object.keys(moduleLocaleFiles.en))
    .map((file) => file.split('/')[1] as string)
  it.each([...new Set(modules)].sort())('module %s has every key in zh-CN and in English', (m) => {
    const zh = moduleLocaleFiles['zh-CN'][`./${m}/locales/zh-CN.ts`]?.default
    const english = moduleLocaleFiles.en[`./${m}/locales/en.ts`]?.default
    expect(zh, `${m}/locales/zh-CN.ts`).toBeDefined()
    expect(english, `${m}/locales/en.ts`).toBeDefined()
    expect(keys(english).sort()).toEqual(keys(zh).sort())
    expect([...empty(english), ...empty(zh)]).toEqual([])
    // A module's messages live under its own name, so modules never overwrite each other.
    expect(Object.keys(zh ?? {})).toEqual([m])
  })
})
