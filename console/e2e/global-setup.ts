// Starts one `usercenter serve` for the run: a fresh SQLite in a temp dir, a free port, TOTP
// required (the default), the super admin `root` created with the CLI and enrolled through the
// API. The binary: $USERCENTER_BIN, else the project's .venv.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { E2E_DIR, enrol, readState, STATE_FILE, writeState, type RunState } from './harness'

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.unref()
    server.on('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => done(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export function usercenterBin(): string {
  const bin = process.env.USERCENTER_BIN ?? resolve(E2E_DIR, '../../.venv/bin/usercenter')
  if (!existsSync(bin)) {
    throw new Error(`no usercenter at ${bin}: set USERCENTER_BIN or create ../.venv (pip install -e .)`)
  }
  return bin
}

export default async function globalSetup(): Promise<void> {
  const bin = usercenterBin()
  const dir = mkdtempSync(join(tmpdir(), 'uc-console-e2e-'))
  const port = await freePort()
  const databaseUrl = `sqlite:///${join(dir, 'usercenter.db')}`
  const env: NodeJS.ProcessEnv = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('USERCENTER_'))),
    USERCENTER_DATABASE_URL: databaseUrl,
    USERCENTER_LOG_LEVEL: 'WARNING',
  }
  const password = 'Root-e2e-Pass-9137!'
  const log = openSync(join(dir, 'serve.log'), 'a')
  const server = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: dir,
    env,
    stdio: ['ignore', log, log],
    detached: false,
  })
  const baseUrl = `http://127.0.0.1:${port}`
  const state: RunState = {
    baseUrl,
    dir,
    pid: server.pid ?? 0,
    bin,
    databaseUrl,
    root: { username: 'root', password, secret: '', recoveryCodes: [] },
    lastStep: {},
    tokens: {},
  }
  rmSync(STATE_FILE, { force: true })
  writeState(state)
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).ok) break
    } catch {
      // not listening yet
    }
    if (server.exitCode !== null) throw new Error(`usercenter serve exited; see ${dir}/serve.log`)
    if (Date.now() > deadline) throw new Error(`usercenter serve not ready; see ${dir}/serve.log`)
    await new Promise((r) => setTimeout(r, 200))
  }
  // `serve` migrated the fresh database; root is created the way an operator does.
  const created = spawnSync(
    bin,
    ['admin', 'create', '--username', 'root', '--password-stdin', '--role', 'super_admin'],
    { cwd: dir, env, input: `${password}\n`, encoding: 'utf8' },
  )
  if (created.status !== 0) {
    throw new Error(`usercenter admin create failed: ${created.stderr}${created.stdout}`)
  }
  const enrolled = await enrol('root', password)
  // re-read: enrol() recorded the TOTP step it used
  writeState({ ...readState(), root: enrolled })
  server.unref()
}
