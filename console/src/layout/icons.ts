// The icons a route's meta.icon may name (imported one by one to keep the bundle small).
import {
  Coin,
  Document,
  Key,
  Lock,
  Odometer,
  Setting,
  Tickets,
  User,
  UserFilled,
  Wallet,
} from '@element-plus/icons-vue'
import type { Component } from 'vue'

export const icons: Record<string, Component> = {
  Coin,
  Document,
  Key,
  Lock,
  Odometer,
  Setting,
  Tickets,
  User,
  UserFilled,
  Wallet,
}
