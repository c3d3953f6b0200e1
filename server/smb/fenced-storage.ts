// A node's side of the storage array's persistent reservations (issue 17 item 2), as a Windows
// cluster node does it with SCSI-3 PR: the node registers its key on every LUN when it starts
// (and a new key when it rejoins after being declared down, so that writes issued under the key
// it was preempted with stay refused); a CSV's owner preempts the keys of the nodes the view
// holds down and takes the Write Exclusive – Registrants Only reservation before it serves the
// CSV; the leader preempts a node it declares down. Every write and metadata change of the
// data path goes through here to the array, carrying the key it was issued under; a
// reservation conflict comes back as a ReservationConflict, which the data path answers with
// STATUS_FILE_NOT_AVAILABLE (the node lost the cluster; the client retries on another node).
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import { ARRAY_STATUS, type ArrayReply } from '../../protocol/storage-array/array-frame.js'
import type { StorageArrayClient } from '../../runtime/storage-array-client.js'

/** RESERVE refused while another live node still holds it (a planned move's RELEASE on its way): tries and the pause between them. */
const RESERVE_TRIES_MAX = 40
const RESERVE_RETRY_MS = 50

/** After a planned hand-over: how often and how long this node looks for the next owner's PREEMPT of its registration. */
const HANDED_OVER_CHECK_MS = 100
const HANDED_OVER_CHECKS_MAX = 100

/**
 * A take-over refused because this node's key went from the LUN meanwhile (another node's
 * PREEMPT in a move): it registers again and starts over, this many times at most.
 */
const TAKE_OVER_ATTEMPTS_MAX = 5

/** The array refused an IO or a command of this node: its key is not (or no longer) registered. */
export class ReservationConflict extends Error {
  override readonly name = 'ReservationConflict'
}

/** The array answered with a status other than OK and conflict: an errno-like error the data path maps (ENOSPC, EROFS…). */
function errorOf(reply: ArrayReply, what: string): Error {
  if (reply.status === ARRAY_STATUS.RESERVATION_CONFLICT) return new ReservationConflict(`${what}: reservation conflict`)
  if (reply.body.kind === 'error') return Object.assign(new Error(`${what}: ${reply.body.message}`), { code: reply.body.code })
  return Object.assign(new Error(`${what}: storage array status ${reply.status}`), { code: 'EIO' })
}

/** A share-relative path as the array names it: share, then the path under it. */
export function arrayPathOf(share: string, path: string): string {
  return path === '' ? share : `${share}/${path}`
}

export class FencedStorage {
  /**
   * Per LUN, the key of this node's registration. Every REGISTER uses a fresh key, so that a
   * REGISTER that reaches the array late (sent just before a freeze, after which the node was
   * preempted) never brings back a key that writes issued before the freeze carry.
   */
  private readonly keys = new Map<string, bigint>()
  private registration: Promise<void> | null = null
  /**
   * Per LUN, the tail of the steps that register this node on it, one at a time: a take-over
   * and a hand-over's re-registration that each registered a fresh key at once left the array
   * with the last one, and the other's RESERVE and PREEMPT were refused for good (a node that
   * owned a CSV and could not write it, bench:failover, 2026-12-06).
   */
  private readonly lunSteps = new Map<string, Promise<unknown>>()
  /** Per LUN, take-overs this node started: a hand-over's watch ends once the node takes the LUN back. */
  private readonly takeOvers = new Map<string, number>()
  /** Reservation conflicts seen, for the node's metrics and `cluster status`. */
  conflicts = 0

  constructor(
    private readonly client: StorageArrayClient,
    private readonly luns: readonly string[],
    private readonly nodeIndex: number,
    private readonly log: Logger,
    /**
     * Whether this node serves now (a live lease, up in its views), read from a fresh clock. A
     * node that resumes from a freeze does not: its lease ran out while it was stopped.
     */
    private readonly isServing: () => boolean = () => false,
  ) {
    const key = this.freshKey()
    for (const lun of luns) this.keys.set(lun, key)
  }

  /** The key a write to this LUN issued now carries (0: none, always refused under a reservation). */
  keyOf(lun: string): bigint {
    return this.keys.get(lun) ?? 0n
  }

  /**
   * Registers a fresh key on every LUN: at start, and when the node rejoins after being declared
   * down (its old key was preempted; what it issued under it must stay refused).
   */
  register(reason: 'start' | 'rejoin'): Promise<void> {
    const key = this.freshKey()
    const done = Promise.all(this.luns.map((lun) => this.registerLun(lun, key))).then(() => {
      this.log.info({ component: 'array', event: 'array.registered', reason, key: keyHex(key), luns: this.luns.length })
    })
    this.registration = done
    return done
  }

  /**
   * Before this node serves a CSV: its registration on the LUN is in (a fresh one if a planned
   * move away from this node preempted it), and the WERO reservation is this node's — at once,
   * or by PREEMPT of the holder's key, which moves the reservation here without its ever lapsing
   * (a RELEASE first would leave no reservation in force, when SPC lets anyone write). A holder
   * the view holds down was lost: nothing it issued can land once this node serves. Resolves to
   * the key the CSV's writes carry.
   */
  async takeOver(lun: string, downNodes: readonly string[]): Promise<bigint> {
    this.takeOvers.set(lun, (this.takeOvers.get(lun) ?? 0) + 1)
    await (this.registration ?? this.register('start'))
    return this.exclusive(lun, async () => {
      for (let attempt = 1; ; attempt++) {
        await this.ensureRegistered(lun)
        try {
          return await this.reserve(lun, downNodes)
        } catch (err) {
          if (!(err instanceof ReservationConflict) || attempt >= TAKE_OVER_ATTEMPTS_MAX) throw err
          this.log.warn({ component: 'array', event: 'array.takeover.retry', lun, attempt, error: err.message })
          await new Promise((r) => setTimeout(r, RESERVE_RETRY_MS))
        }
      }
    })
  }

  /** This node's current key is registered on the LUN: as it is, or a fresh one (a PREEMPT removed it). */
  private async ensureRegistered(lun: string): Promise<void> {
    const keys = await this.client.request({ op: 'read-keys', lun })
    if (keys.body.kind !== 'keys') throw errorOf(keys, `READ KEYS ${lun}`)
    if (keys.body.registrations.some((k) => k.initiator === this.initiator && k.key === this.keyOf(lun))) return
    await this.registerLun(lun, this.freshKey())
    this.log.info({ component: 'array', event: 'array.registered', reason: 'take-over', lun, key: keyHex(this.keyOf(lun)) })
  }

  /** The WERO reservation under this node's registered key: at once, or by PREEMPT of the holder. */
  private async reserve(lun: string, downNodes: readonly string[]): Promise<bigint> {
    const key = this.keyOf(lun)
    const preempted: string[] = []
    for (let tries = 1; ; tries++) {
      const r = await this.client.request({ op: 'reserve', lun, key })
      if (r.status === ARRAY_STATUS.OK) break
      if (r.status !== ARRAY_STATUS.RESERVATION_CONFLICT) throw errorOf(r, `RESERVE ${lun}`)
      const res = await this.client.request({ op: 'read-reservation', lun })
      const holder = res.body.kind === 'reservation' ? res.body.holder : null
      if (holder && holder.initiator !== this.initiator) {
        const p = await this.client.request({ op: 'preempt', lun, key, victimKey: holder.key })
        if (p.status !== ARRAY_STATUS.OK) throw errorOf(p, `PREEMPT ${lun}`)
        this.log.info({ component: 'array', event: 'array.preempted', lun, victim: holder.initiator, victimKey: keyHex(holder.key), reason: downNodes.includes(holder.initiator) ? 'down' : 'move' })
        preempted.push(holder.initiator)
      }
      if (tries >= RESERVE_TRIES_MAX) {
        this.log.warn({ component: 'array', event: 'array.reserve.held-elsewhere', lun, holder: holder?.initiator ?? null })
        return key
      }
      if (!holder) await new Promise((r) => setTimeout(r, RESERVE_RETRY_MS))
    }
    this.log.info({ component: 'array', event: 'array.reserved', lun, key: keyHex(key), preempted })
    return key
  }

  /**
   * The leader declared a node down: its registrations go. On a LUN where it holds the
   * reservation the CSV's new owner preempts it (takeOver), so that the reservation moves to
   * that owner: a PREEMPT from here would move it to the leader instead.
   */
  async preemptNode(nodeId: string): Promise<void> {
    await (this.registration ?? this.register('start'))
    await Promise.all(
      this.luns.map(async (lun) => {
        const res = await this.client.request({ op: 'read-reservation', lun })
        if (res.body.kind === 'reservation' && res.body.holder?.initiator === nodeId) return
        await this.preemptInitiators(lun, [nodeId], this.keyOf(lun))
      }),
    )
  }

  /**
   * This node handed a CSV over in a planned move: the next owner takes the reservation by
   * PREEMPT, which removes this node's registration on the LUN. Once it did, this node registers
   * a fresh key there again (while it serves: it stays a registrant of every LUN, as SAN needs).
   */
  async handedOver(lun: string): Promise<void> {
    const takeOversAtStart = this.takeOvers.get(lun) ?? 0
    // The node took the LUN back: its take-over registers as it needs.
    const takenBack = () => (this.takeOvers.get(lun) ?? 0) !== takeOversAtStart
    for (let tries = 0; tries < HANDED_OVER_CHECKS_MAX; tries++) {
      await new Promise((r) => setTimeout(r, HANDED_OVER_CHECK_MS))
      if (takenBack()) return
      const done = await this.exclusive(lun, async () => {
        if (takenBack()) return true
        const keys = await this.client.request({ op: 'read-keys', lun })
        if (keys.body.kind !== 'keys') return true
        if (keys.body.registrations.some((k) => k.initiator === this.initiator)) return false
        if (!this.isServing()) return true
        await this.registerLun(lun, this.freshKey())
        this.log.info({ component: 'array', event: 'array.registered', reason: 'handed-over', lun, key: keyHex(this.keyOf(lun)) })
        return true
      })
      if (done) return
    }
  }

  /** Runs `step` once every earlier registration step on the LUN has settled. */
  private exclusive<T>(lun: string, step: () => Promise<T>): Promise<T> {
    const run = (this.lunSteps.get(lun) ?? Promise.resolve()).then(step)
    const tail = run.catch(() => undefined)
    this.lunSteps.set(lun, tail)
    void tail.then(() => {
      if (this.lunSteps.get(lun) === tail) this.lunSteps.delete(lun)
    })
    return run
  }

  private async registerLun(lun: string, key: bigint): Promise<void> {
    await this.command({ op: 'register', lun, key }, `REGISTER ${lun}`)
    this.keys.set(lun, key)
  }

  private async preemptInitiators(lun: string, initiators: readonly string[], key: bigint): Promise<void> {
    const keys = await this.client.request({ op: 'read-keys', lun })
    if (keys.body.kind !== 'keys') throw errorOf(keys, `READ KEYS ${lun}`)
    for (const victim of keys.body.registrations.filter((k) => initiators.includes(k.initiator))) {
      const r = await this.client.request({ op: 'preempt', lun, key, victimKey: victim.key })
      if (r.status !== ARRAY_STATUS.OK) throw errorOf(r, `PREEMPT ${lun}`)
      this.log.info({ component: 'array', event: 'array.preempted', lun, victim: victim.initiator, victimKey: keyHex(victim.key), reason: 'down' })
    }
  }

  // ---- the data path's writes and metadata changes, each under the key given ----

  async write(lun: string, path: string, offset: number, data: Buffer, key: bigint): Promise<number> {
    const r = await this.io({ op: 'write', lun, key, path, offset, data, sync: true }, lun, path)
    return r.body.kind === 'count' ? r.body.count : 0
  }

  async flush(lun: string, path: string, key: bigint): Promise<void> {
    await this.io({ op: 'flush', lun, key, path }, lun, path)
  }

  async truncate(lun: string, path: string, sizeBytes: number, key: bigint): Promise<void> {
    await this.io({ op: 'truncate', lun, key, path, sizeBytes }, lun, path)
  }

  async createFile(lun: string, path: string, truncate: boolean, key: bigint): Promise<void> {
    await this.io({ op: 'create-file', lun, key, path, truncate }, lun, path)
  }

  async mkdir(lun: string, path: string, key: bigint): Promise<void> {
    await this.io({ op: 'mkdir', lun, key, path }, lun, path)
  }

  async rename(lun: string, path: string, newPath: string, key: bigint): Promise<void> {
    await this.io({ op: 'rename', lun, key, path, newPath }, lun, path)
  }

  async remove(lun: string, path: string, directory: boolean, key: bigint): Promise<void> {
    await this.io({ op: 'remove', lun, key, path, directory }, lun, path)
  }

  async setTimes(lun: string, path: string, accessMs: number, writeMs: number, key: bigint): Promise<void> {
    await this.io({ op: 'set-times', lun, key, path, accessMs, writeMs }, lun, path)
  }

  private get initiator(): string {
    return this.client.initiator
  }

  private async io(req: Parameters<StorageArrayClient['request']>[0] & { key: bigint }, lun: string, path: string): Promise<ArrayReply> {
    const r = await this.client.request(req)
    if (r.status === ARRAY_STATUS.OK) return r
    if (r.status === ARRAY_STATUS.RESERVATION_CONFLICT) {
      this.conflicts++
      // One line per refused IO: after a freeze this is the node learning it lost the cluster.
      this.log.warn({ component: 'array', event: 'array.io.conflict', lun, op: req.op, path, key: keyHex(req.key) })
      // Still serving with this very key: a CSV's new owner preempted this node's registration
      // on the LUN in a planned move (SAN: every node writes every LUN). It registers a fresh
      // key for later writes; this one is not retried (the client retries it, as after any
      // STATUS_FILE_NOT_AVAILABLE), so nothing issued before a freeze ever lands.
      if (req.key === this.keyOf(lun) && this.isServing()) {
        this.exclusive(lun, async () => {
          // A take-over or another refused IO may have registered a fresh key meanwhile.
          if (req.key !== this.keyOf(lun)) return
          await this.registerLun(lun, this.freshKey())
          this.log.info({ component: 'array', event: 'array.registered', reason: 'preempted-while-serving', lun, key: keyHex(this.keyOf(lun)) })
        }).catch((err: Error) => this.log.warn({ component: 'array', event: 'array.register.failed', lun, error: err.message }))
      }
    }
    throw errorOf(r, `${req.op} ${lun}/${path}`)
  }

  private async command(req: Parameters<StorageArrayClient['request']>[0], what: string): Promise<void> {
    const r = await this.client.request(req)
    if (r.status !== ARRAY_STATUS.OK) throw errorOf(r, what)
  }

  /** Node index in the top 16 bits, 48 random bits below: a new key for every registration. */
  private freshKey(): bigint {
    const low = BigInt(`0x${randomBytes(6).toString('hex')}`) | 1n
    return (BigInt((this.nodeIndex + 1) & 0xffff) << 48n) | low
  }
}

export function keyHex(key: bigint): string {
  return key.toString(16).padStart(16, '0')
}
