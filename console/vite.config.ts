/// <reference types="vitest/config" />
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url))

// The dev server proxies the API to a local `usercenter serve` (USERCENTER_URL, default :8000).
const backend = process.env.USERCENTER_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/admin/',
  plugins: [
    vue(),
    AutoImport({
      resolvers: [ElementPlusResolver()],
      dts: 'src/auto-imports.d.ts',
    }),
    Components({
      resolvers: [ElementPlusResolver()],
      dts: 'src/components.d.ts',
      // Only the shared components folder is scanned; modules import their own explicitly.
      dirs: [],
    }),
  ],
  resolve: {
    alias: {
      '@': here('./src'),
      '@usercenter/client': here('../clients/typescript/src/index.ts'),
    },
  },
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  server: {
    proxy: {
      '/v1': backend,
      '/healthz': backend,
    },
  },
  build: {
    outDir: '../src/usercenter/admin_ui/dist',
    emptyOutDir: true,
    // Reproducible: no source maps (absolute paths), content hashes only.
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.spec.ts'],
    testTimeout: 30000,
    // Element Plus's per-component style imports (.css) go through Vite, not Node.
    server: { deps: { inline: ['element-plus'] } },
  },
})
