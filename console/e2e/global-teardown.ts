import { existsSync, rmSync } from 'node:fs'
import { readState, STATE_FILE } from './harness'

export default async function globalTeardown(): Promise<void> {
  if (!existsSync(STATE_FILE)) return
  const state = readState()
  try {
    process.kill(state.pid, 'SIGTERM')
  } catch {
    // already gone
  }
  await new Promise((r) => setTimeout(r, 300))
  if (!process.env.E2E_KEEP) rmSync(state.dir, { recursive: true, force: true })
}
