import { defineConfig } from '@playwright/test'

// Debian's Chromium, never a downloaded browser; one worker: the specs share one server.
export default defineConfig({
  testDir: '.',
  testMatch: '*.spec.ts',
  outputDir: './output/test-results',
  globalSetup: './global-setup.ts',
  globalTeardown: './global-teardown.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    headless: true,
    viewport: { width: 1366, height: 850 },
    locale: 'zh-CN',
    launchOptions: {
      executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-gpu',
        '--disable-component-update',
        '--no-first-run',
      ],
    },
  },
})
