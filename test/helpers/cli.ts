import { spawn, type SpawnOptions } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The real `sq` binary, as a user runs it (built into dist/ by `npm test`). */
export const SQ_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js')

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd: string
  env?: Record<string, string | undefined>
  input?: string
  timeoutMs?: number
}

/** Runs `sq ...args` to the end and collects what it printed. */
export function runSq(args: string[], o: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SQ_BIN, ...args], {
      cwd: o.cwd,
      env: { ...cleanEnv(), ...o.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    } satisfies SpawnOptions)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
    child.stdin.end(o.input ?? '')
  })
}

/** The environment without any SQ_* variable of the machine running the tests. */
export function cleanEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SQ_') && k !== 'DEBUG'))
}
