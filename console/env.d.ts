/// <reference types="vite/client" />
import 'vue-router'

declare module 'vue-router' {
  interface RouteMeta {
    /** Permission code the operator must hold; without it the page shows 403. */
    permission?: string
    /** i18n key of the page title and menu label. */
    title?: string
    /** Code of the menu node (from GET /v1/admin/me `menus`) this page sits under. */
    menu?: string
    /** Element Plus icon name (from @element-plus/icons-vue). */
    icon?: string
    /** Not shown in the sidebar (detail pages). */
    hidden?: boolean
    /** Reachable without logging in. */
    public?: boolean
  }
}

declare module 'vue' {
  interface GlobalDirectives {
    vPerm: typeof import('./src/directives/perm').vPerm
  }
}
