/**
 * The task modules the worker tests enqueue, written into each test database's dir (the tasks root).
 * Tasks that coordinate with a test take absolute file paths in their args: a pid file the test reads,
 * a gate file the test creates to let the task go on, a counter that survives across runs.
 */
export const TASKS = `
import fs from 'node:fs'
import { spawn } from 'node:child_process'

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const forever = () => new Promise(() => setInterval(() => {}, 1000))
async function untilExists(file) {
  while (!fs.existsSync(file)) await sleep(20)
}

export function text() { return 'a string result' }
export async function later({ value }) { await sleep(20); return value }
export function json() { return { a: 1, list: [1, 'two', null], nested: { ok: true } } }
export function number() { return 42 }
export function nothing() {}
export function nil() { return null }
export function circular() { const o = { name: 'loop' }; o.self = o; return o }
export function* gen() { yield 'one '; yield 'two '; yield 'three' }
export async function* agen() {
  for (const word of ['alpha', '-', 'beta', '-', 'gamma']) { await sleep(5); yield word }
}
export async function* progress() {
  yield { progress: { current: 1, total: 3, message: 'first step' } }
  yield 'working'
  yield { progress: { current: 3, total: 3, message: 'all done' } }
}
export function boom() { throw new Error('boom: the task broke') }
export function exit3() { process.exit(3) }
export const notAFunction = 42
export function pid() { return process.pid }

/** Writes its pid (and, with childPidFile, starts a grandchild \`sleep\` and writes ITS pid), then hangs. */
export async function hang({ pidFile, childPidFile }) {
  if (childPidFile) {
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
    fs.writeFileSync(childPidFile, String(child.pid))
  }
  fs.writeFileSync(pidFile, String(process.pid))
  await forever()
}
export function hog() {
  const keep = []
  for (;;) keep.push(new Array(100000).fill(Math.random()))
}
export function flood({ lines }) {
  const line = 'x'.repeat(99) + '\\n'
  for (let i = 0; i < lines; i++) process.stdout.write(line)
  return 'flooded'
}
export function* floodOutput({ chunks }) {
  for (let i = 0; i < chunks; i++) yield 'y'.repeat(100)
}
export function chatty({ name }) {
  console.log('console.log from ' + name)
  console.error('console.error from ' + name)
  process.stdout.write('stdout.write from ' + name + '\\n')
  return process.pid
}
/** Yields its first part, waits for the gate file to exist, yields the second part. */
export async function* gated({ gate, pidFile }) {
  if (pidFile) fs.writeFileSync(pidFile, String(process.pid))
  yield 'part one;'
  await untilExists(gate)
  yield ' part two'
}
export async function gatedFail({ gate }) {
  await untilExists(gate)
  throw new Error('failed after the gate')
}
export async function sleepy({ ms }) { await sleep(ms); return 'slept ' + ms }
/** Fails its first \`failures\` runs (counted in a file), then succeeds. */
export function flaky({ counter, failures }) {
  const run = Number(fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8') : 0) + 1
  fs.writeFileSync(counter, String(run))
  if (run <= failures) throw new Error('flaky failure ' + run)
  return 'succeeded on run ' + run
}
/** Its first run writes its pid and hangs (to be killed with its worker); later runs return. */
export async function hangOnce({ pidFile, counter }) {
  const run = Number(fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8') : 0) + 1
  fs.writeFileSync(counter, String(run))
  if (run > 1) return 'run ' + run + ' completed'
  fs.writeFileSync(pidFile, String(process.pid))
  await forever()
}
/** Its first run yields a line, writes its pid and hangs (its worker is stopped); later runs return. */
export async function* partialOnce({ pidFile, counter }) {
  const run = Number(fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8') : 0) + 1
  fs.writeFileSync(counter, String(run))
  if (run > 1) { yield 'run ' + run + ' completed'; return }
  yield 'step 1 of 2\\n'
  fs.writeFileSync(pidFile, String(process.pid))
  await forever()
}
/** Appends its token to a shared file: the exactly-once test counts the lines. */
export function note({ file, token }) {
  fs.appendFileSync(file, token + '\\n')
  return token
}
`
