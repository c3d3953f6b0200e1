import t, { type Test } from 'tap'
import { fork } from 'node:child_process'
import * as fs from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  FileWitness,
  LEASE_FILE_NAME,
  LOCK_FILE_NAME,
  parseLeaseRecord,
  type FileLeaseRecord,
} from '../../cluster/witness/file-witness.js'
import { isWitnessReadFailure, type WitnessLeaseResult } from '../../cluster/witness/quorum-witness.js'

/** Polls until check() is true, or fails after timeoutMs: waits on a condition, not a guess. */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check()) return true
    await sleep(5)
  }
  return check()
}

/**
 * A fresh folder under the system temp dir, removed after the test. Unlike t.testdir(),
 * its name is unique, so that parallel runs of this file cannot trip over each other.
 */
async function tempFolder(t: Test, files: Record<string, string> = {}): Promise<string> {
  const folder = await fs.mkdtemp(path.join(tmpdir(), 'swlab-file-witness-'))
  t.teardown(() => fs.rm(folder, { recursive: true, force: true }))
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(folder, name), content)
  return folder
}

async function readLeaseFile(folder: string): Promise<FileLeaseRecord | undefined> {
  return parseLeaseRecord(await fs.readFile(path.join(folder, LEASE_FILE_NAME), 'utf8'))
}

function witnessIn(t: Test, folder: string, options?: ConstructorParameters<typeof FileWitness>[1]): FileWitness {
  const witness = new FileWitness(folder, options)
  t.teardown(() => witness.close())
  return witness
}

t.test('acquire on a free witness is granted and writes the lease file', async (t) => {
  const folder = path.join(await tempFolder(t), 'share', 'nested')
  const witness = witnessIn(t, folder)

  t.same(await witness.read(), null, 'never held: read answers null')
  const result = await witness.acquire('n1', 5000, 3)
  t.same(result, { granted: true, holder: 'n1' })

  const lease = await readLeaseFile(folder)
  t.ok(lease, 'lease file is well formed')
  t.equal(lease?.holder, 'n1')
  t.equal(lease?.term, 3)
  t.equal(lease?.version, 1)
  t.ok(lease !== undefined && lease.expiresAtMs > Date.now() + 4000, 'expiry is about durationMs from now')

  const read = await witness.read()
  t.ok(read !== null && !isWitnessReadFailure(read) && read.holder === 'n1' && read.term === 3, 'read reports holder')
  const leftovers = (await fs.readdir(folder)).filter((name) => name !== LEASE_FILE_NAME)
  t.same(leftovers, [], 'no lock or temp file is left behind')
})

t.test('another node is denied while the lease is valid; the holder renews', async (t) => {
  const folder = await tempFolder(t)
  const a = witnessIn(t, folder)
  const b = witnessIn(t, folder)

  t.same(await a.acquire('n1', 5000, 1), { granted: true, holder: 'n1' })
  const first = await readLeaseFile(folder)

  t.same(await b.acquire('n2', 5000, 2), { granted: false, holder: 'n1' }, 'denied, holder reported')
  t.same(await a.acquire('n1', 8000, 1), { granted: true, holder: 'n1' }, 'holder renews')

  const renewed = await readLeaseFile(folder)
  t.equal(renewed?.holder, 'n1')
  t.equal(renewed?.version, (first?.version ?? 0) + 1, 'version bumped by the renewal')
  t.ok((renewed?.expiresAtMs ?? 0) > (first?.expiresAtMs ?? Infinity), 'expiry extended')
  t.same(await b.acquire('n2', 5000, 2), { granted: false, holder: 'n1' }, 'still denied after renewal')
})

t.test('an expired lease can be taken by another node', async (t) => {
  const folder = await tempFolder(t)
  const a = witnessIn(t, folder)
  const b = witnessIn(t, folder)

  t.same(await a.acquire('n1', 50, 1), { granted: true, holder: 'n1' })
  const lease = await readLeaseFile(folder)
  let last: WitnessLeaseResult | undefined
  const taken = await waitFor(async () => {
    last = await b.acquire('n2', 5000, 2)
    return last.granted
  }, 2000)
  t.ok(taken, 'n2 gets the lease once it expires')
  t.ok(Date.now() >= (lease?.expiresAtMs ?? Infinity), 'not before the expiry')
  t.same(last, { granted: true, holder: 'n2' })
  t.same(await a.acquire('n1', 50, 1), { granted: false, holder: 'n2' }, 'the old holder is now denied')
})

t.test('a corrupt lease file is treated as free and overwritten', async (t) => {
  const folder = await tempFolder(t, { [LEASE_FILE_NAME]: '{"holder": "n9", "term": ' })
  const witness = witnessIn(t, folder)

  t.same(await witness.read(), null, 'corrupt reads as never held')
  t.same(await witness.acquire('n1', 5000, 1), { granted: true, holder: 'n1' })
  const lease = await readLeaseFile(folder)
  t.equal(lease?.holder, 'n1', 'overwritten with a well-formed lease')

  await fs.writeFile(path.join(folder, LEASE_FILE_NAME), JSON.stringify({ holder: 'n9', term: 1 }))
  t.same(await witness.acquire('n2', 5000, 1), { granted: true, holder: 'n2' }, 'missing fields count as corrupt')
})

t.test('a stale lock file is broken', async (t) => {
  const folder = await tempFolder(t, {
    [LOCK_FILE_NAME]: JSON.stringify({ pid: 999999, host: 'gone', acquiredAtMs: Date.now() - 60_000, token: 'dead' }),
  })
  const lockPath = path.join(folder, LOCK_FILE_NAME)
  const tenSecondsAgo = new Date(Date.now() - 10_000)
  await fs.utimes(lockPath, tenSecondsAgo, tenSecondsAgo)
  const witness = witnessIn(t, folder)

  const result = await witness.acquire('n1', 5000, 1)
  t.same(result, { granted: true, holder: 'n1' })
  await t.rejects(fs.stat(lockPath), { code: 'ENOENT' }, 'lock removed after use')
  const leftovers = (await fs.readdir(folder)).filter((name) => name !== LEASE_FILE_NAME)
  t.same(leftovers, [], 'the broken lock is not left aside')
})

t.test('a live lock makes acquire give up within its bound, with an error result', async (t) => {
  const folder = await tempFolder(t, {
    [LOCK_FILE_NAME]: JSON.stringify({ pid: 4242, host: 'other', acquiredAtMs: Date.now(), token: 'live' }),
  })
  const witness = witnessIn(t, folder, { lockWaitMs: 50, staleLockMs: 60_000 })
  // The lease is free, so acquire goes past the fast path and needs the lock.
  const startMs = performance.now()
  const result = await witness.acquire('n1', 5000, 1)
  const elapsedMs = performance.now() - startMs
  t.equal(result.granted, false)
  t.match(result.error, /busy for 50 ms \(held by pid 4242 on other\)/)
  t.notMatch(result.error ?? '', /\n/, 'one line')
  t.ok(elapsedMs >= 45 && elapsedMs < 1000, `gave up after ${Math.round(elapsedMs)} ms`)
  t.ok(await fs.stat(path.join(folder, LOCK_FILE_NAME)), 'a live lock is left alone')
})

t.test('a valid lease held by another node is refused without taking the lock', async (t) => {
  const folder = await tempFolder(t, {
    [LEASE_FILE_NAME]: JSON.stringify({ holder: 'n2', term: 4, expiresAtMs: Date.now() + 60_000, version: 7 }),
    [LOCK_FILE_NAME]: JSON.stringify({ pid: 4242, host: 'other', acquiredAtMs: Date.now(), token: 'live' }),
  })
  const witness = witnessIn(t, folder, { lockWaitMs: 50, staleLockMs: 60_000 })
  t.same(await witness.acquire('n1', 5000, 1), { granted: false, holder: 'n2' })
})

t.test('20 concurrent acquires by different nodes: exactly one is granted', async (t) => {
  const folder = await tempFolder(t)
  const nodeIds = Array.from({ length: 20 }, (_, i) => `node-${i}`)
  // One witness object per node, as separate cluster nodes would have; a generous lock
  // wait so that a slow disk turns into waiting, not into error results.
  const witnesses = nodeIds.map(() => witnessIn(t, folder, { lockWaitMs: 3000, operationTimeoutMs: 5000 }))
  const results = await Promise.all(witnesses.map((w, i) => w.acquire(nodeIds[i], 5000, 1)))

  const granted = results.filter((r) => r.granted)
  t.equal(granted.length, 1, 'exactly one grant')
  const winner = granted[0]?.holder
  t.ok(winner !== undefined && nodeIds.includes(winner))
  for (const r of results.filter((r) => !r.granted)) {
    t.same(r, { granted: false, holder: winner }, 'losers see the winner')
  }
  t.equal((await readLeaseFile(folder))?.holder, winner, 'the file names the winner')
})

t.test('separate processes contend: exactly one is granted', async (t) => {
  const folder = await tempFolder(t, {
    'child.mjs': `
      const { FileWitness } = await import(process.env.WITNESS_MODULE_URL)
      const witness = new FileWitness(process.env.WITNESS_FOLDER, { lockWaitMs: 3000, operationTimeoutMs: 5000 })
      process.once('message', async () => {
        const result = await witness.acquire(process.env.WITNESS_NODE_ID, 5000, 1)
        await witness.close()
        process.send({ result }, () => process.disconnect())
      })
      process.send({ ready: true })
    `,
  })
  const share = path.join(folder, 'share')
  const moduleUrl = new URL('../../cluster/witness/file-witness.ts', import.meta.url).href
  const children = ['p1', 'p2', 'p3'].map((nodeId) =>
    fork(path.join(folder, 'child.mjs'), [], {
      execArgv: process.execArgv,
      env: { ...process.env, WITNESS_MODULE_URL: moduleUrl, WITNESS_FOLDER: share, WITNESS_NODE_ID: nodeId },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  )
  t.teardown(() => {
    for (const child of children) if (child.exitCode === null) child.kill()
  })

  type ChildMessage = { ready?: boolean; result?: WitnessLeaseResult }
  const nextMessage = (child: (typeof children)[number]): Promise<ChildMessage> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child did not answer within 30 s')), 30_000)
      child.once('message', (message) => {
        clearTimeout(timer)
        resolve(message as ChildMessage)
      })
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)))
    })

  const ready = await Promise.all(children.map(nextMessage))
  t.ok(ready.every((m) => m.ready === true), 'all children loaded the witness')
  const answers = children.map(nextMessage)
  // Start them together, so that they really race for the lock.
  for (const child of children) child.send('go')
  const results = (await Promise.all(answers)).map((m) => m.result)

  t.equal(results.filter((r) => r?.granted === true).length, 1, 'exactly one grant across processes')
  const winner = results.find((r) => r?.granted === true)?.holder
  for (const r of results.filter((r) => r?.granted !== true)) t.same(r, { granted: false, holder: winner })
  t.equal((await readLeaseFile(share))?.holder, winner)
})

t.test('release lets another node acquire at once', async (t) => {
  const folder = await tempFolder(t)
  const a = witnessIn(t, folder)
  const b = witnessIn(t, folder)
  t.same(await a.acquire('n1', 60_000, 1), { granted: true, holder: 'n1' })
  t.same(await b.release('n2'), { released: false }, 'a non-holder cannot release')
  t.same(await a.release('n1'), { released: true })
  t.same(await b.acquire('n2', 60_000, 2), { granted: true, holder: 'n2' })
})

t.test('failures and bad arguments are returned, not thrown', async (t) => {
  const folder = await tempFolder(t, { 'not-a-folder': 'a file' })
  const blocked = witnessIn(t, path.join(folder, 'not-a-folder', 'share'))
  const result = await blocked.acquire('n1', 1000, 1)
  t.equal(result.granted, false)
  t.match(result.error, /cannot create/)

  const witness = witnessIn(t, path.join(folder, 'share'))
  t.match(await witness.acquire('', 1000, 1), { granted: false, error: /nodeId/ })
  t.match(await witness.acquire('n1', 0, 1), { granted: false, error: /durationMs/ })
  t.match(await witness.acquire('n1', 1000, Number.NaN), { granted: false, error: /term/ })

  await witness.close()
  t.match(await witness.acquire('n1', 1000, 1), { granted: false, error: /closed/ })
  t.match(await witness.read(), { error: /closed/ })
})
