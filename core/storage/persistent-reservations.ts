// SCSI-3 persistent reservations of an emulated storage array (SPC-3 5.6, PERSISTENT RESERVE
// IN/OUT), the way Windows failover clusters fence a node that lost the cluster: each LUN (here
// a CSV) has registrations, one per initiator (an I_T nexus: a node's connection to the array),
// each with its reservation key, and at most one persistent reservation, held by a registered
// initiator. The type is always Write Exclusive – Registrants Only (WERO, SPC-3 6.11.2.2, what
// WSFC takes on a CSV's disk): while it is in force only registered initiators may write, and
// anyone may read. The cluster takes a lost node's writes away by PREEMPT, which removes its
// registration (and moves the reservation to the preemptor if the victim held it).
//
// Pure: no IO, no clock. The array process owns one table and answers its clients from it.

/** SPC-3 allows many registrations per LUN; a cluster has one per node, bounded here. */
export const REGISTRATIONS_PER_LUN_MAX = 64

/** LUNs an array serves (one per CSV). */
export const LUNS_MAX = 256

/** Keys are 8 bytes on the wire (SPC-3 6.12.3); 0 means "no key" (REGISTER with it unregisters). */
export const KEY_MAX = (1n << 64n) - 1n

/** Initiator names: node ids. */
const INITIATOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Why a PERSISTENT RESERVE command or an IO was refused (SPC-3 status codes in spirit). */
export type ReservationRefusal =
  /** SCSI status RESERVATION CONFLICT: the initiator is not registered with this key, or another holds the reservation. */
  | 'reservation-conflict'
  /** No such LUN (SCSI: LOGICAL UNIT NOT SUPPORTED). */
  | 'unknown-lun'
  /** A key outside 64 bits, or 0 where a key is needed; a bad initiator name. */
  | 'invalid-field'
  /** REGISTRATIONS_PER_LUN_MAX reached (SCSI: INSUFFICIENT REGISTRATION RESOURCES). */
  | 'insufficient-registration-resources'

export type ReservationResult = { readonly ok: true } | { readonly ok: false; readonly refusal: ReservationRefusal }

export type PreemptResult = { readonly ok: true; readonly removed: readonly string[] } | { readonly ok: false; readonly refusal: ReservationRefusal }

export interface LunKeys {
  /** PRgeneration (SPC-3 6.11.2): counts REGISTER and PREEMPT, wraps at 2^32. */
  readonly generation: number
  readonly registrations: readonly { readonly initiator: string; readonly key: bigint }[]
}

export interface LunReservation {
  readonly generation: number
  /** The holder's initiator and key; null when no reservation is in force. */
  readonly holder: { readonly initiator: string; readonly key: bigint } | null
}

interface LunState {
  generation: number
  readonly registrations: Map<string, bigint>
  holder: string | null
}

const OK: ReservationResult = { ok: true }

function refused(refusal: ReservationRefusal): { ok: false; refusal: ReservationRefusal } {
  return { ok: false, refusal }
}

function validKey(key: bigint): boolean {
  return key > 0n && key <= KEY_MAX
}

export class ReservationTable {
  private readonly luns = new Map<string, LunState>()

  constructor(lunNames: readonly string[]) {
    if (lunNames.length > LUNS_MAX) throw new RangeError(`at most ${LUNS_MAX} LUNs`)
    for (const name of lunNames) this.luns.set(name, { generation: 0, registrations: new Map(), holder: null })
  }

  lunNames(): string[] {
    return [...this.luns.keys()]
  }

  /**
   * REGISTER (SPC-3 6.12.2, as REGISTER AND IGNORE EXISTING KEY): the initiator's registration
   * gets key; key 0 removes it, and a reservation it held ends with it (5.6.10.1). A reservation
   * the initiator holds keeps being its own under the new key.
   */
  register(lun: string, initiator: string, key: bigint): ReservationResult {
    const state = this.luns.get(lun)
    if (!state) return refused('unknown-lun')
    if (!INITIATOR_PATTERN.test(initiator) || key < 0n || key > KEY_MAX) return refused('invalid-field')
    if (key === 0n) {
      if (state.registrations.delete(initiator)) state.generation = (state.generation + 1) >>> 0
      if (state.holder === initiator) state.holder = null
      return OK
    }
    if (!state.registrations.has(initiator) && state.registrations.size >= REGISTRATIONS_PER_LUN_MAX) return refused('insufficient-registration-resources')
    state.registrations.set(initiator, key)
    state.generation = (state.generation + 1) >>> 0
    return OK
  }

  /** RESERVE (6.12.8): a registered initiator takes the reservation if nobody else holds it. */
  reserve(lun: string, initiator: string, key: bigint): ReservationResult {
    const state = this.luns.get(lun)
    if (!state) return refused('unknown-lun')
    if (!validKey(key)) return refused('invalid-field')
    if (state.registrations.get(initiator) !== key) return refused('reservation-conflict')
    if (state.holder !== null && state.holder !== initiator) return refused('reservation-conflict')
    state.holder = initiator
    return OK
  }

  /** RELEASE (6.12.6): the holder gives the reservation up; from a registrant that does not hold it, nothing happens. */
  release(lun: string, initiator: string, key: bigint): ReservationResult {
    const state = this.luns.get(lun)
    if (!state) return refused('unknown-lun')
    if (!validKey(key)) return refused('invalid-field')
    if (state.registrations.get(initiator) !== key) return refused('reservation-conflict')
    if (state.holder === initiator) state.holder = null
    return OK
  }

  /**
   * PREEMPT (6.12.4, 5.6.10.4): a registered initiator removes every registration with
   * victimKey; if the reservation's holder was among them, the preemptor now holds it. A victim
   * key nobody has is no error here (the node it named is already fenced).
   */
  preempt(lun: string, initiator: string, key: bigint, victimKey: bigint): PreemptResult {
    const state = this.luns.get(lun)
    if (!state) return refused('unknown-lun')
    if (!validKey(key) || !validKey(victimKey)) return refused('invalid-field')
    if (state.registrations.get(initiator) !== key) return refused('reservation-conflict')
    const removed = [...state.registrations].filter(([who, k]) => k === victimKey && who !== initiator).map(([who]) => who)
    for (const who of removed) state.registrations.delete(who)
    if (state.holder !== null && removed.includes(state.holder)) state.holder = initiator
    if (removed.length > 0) state.generation = (state.generation + 1) >>> 0
    return { ok: true, removed }
  }

  /** READ KEYS (6.11.2), sorted by initiator. */
  readKeys(lun: string): LunKeys | null {
    const state = this.luns.get(lun)
    if (!state) return null
    const registrations = [...state.registrations].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([initiator, key]) => ({ initiator, key }))
    return { generation: state.generation, registrations }
  }

  /** READ RESERVATION (6.11.3). */
  readReservation(lun: string): LunReservation | null {
    const state = this.luns.get(lun)
    if (!state) return null
    const key = state.holder === null ? undefined : state.registrations.get(state.holder)
    return { generation: state.generation, holder: state.holder === null || key === undefined ? null : { initiator: state.holder, key } }
  }

  /**
   * The check before an IO (SPC-3 5.6.1, table 31 for WERO): reads pass; a write passes when no
   * reservation is in force, or from an initiator registered with exactly this key. Carrying the
   * key on every write (stricter than SCSI, which knows only the nexus) means a write issued under
   * a key that was since preempted stays refused even after the node registers a new one.
   */
  checkIo(lun: string, initiator: string, key: bigint, kind: 'read' | 'write'): ReservationResult {
    const state = this.luns.get(lun)
    if (!state) return refused('unknown-lun')
    if (kind === 'read' || state.holder === null) return OK
    return validKey(key) && state.registrations.get(initiator) === key ? OK : refused('reservation-conflict')
  }
}
