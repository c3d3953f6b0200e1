// The whole-system simulator's client-side invariants, checked on every step:
//
// (a) NOTIFIED: a client registered for its data node D with a witness node W (W != D) is
//     notified -- an AsyncNotify answered with a RESOURCE_CHANGE naming a resource
//     UNAVAILABLE, or a CLIENT_MOVE / SHARE_MOVE -- within notifyBoundMs of the cluster
//     declaring D down, as long as W stays live (running, not paused), quorate (it holds a
//     lease) and reachable from the client for that whole time. DESIGN.md §5 invariant 7.
// (b) LEFT: a client whose data path is on D when the cluster declares D down has moved it
//     off D within dataPathBoundMs of the declaration when its witness is healthy as in (a),
//     and within reactionBoundMs of learning D is gone by any other means (its session's
//     connection reset, or a notification that came anyway).
//
// A client that can learn nothing (its witness is cut off, paused or without quorum, and its
// data node's process is alive but unreachable) is judged by the schedule's liveness check
// once the faults stop, not here: no bound could hold for it.
import type { QuorumTiming } from '../quorum/profiles.js'
import type { NodeId } from '../quorum/types.js'
import type { ClientId } from './client-wire.js'
import type { ClientRegistration } from './sim-client.js'

export class FailoverViolation extends Error {
  override readonly name = 'FailoverViolation'
}

/** The bounds of (a) and (b), in simulated ms; failoverBounds says how they follow from the timing. */
export interface FailoverBounds {
  /** (a): from the cluster's declaration to the notification reaching the client. */
  readonly notifyBoundMs: number
  /** (b): from the moment a client learns its data node is gone to its data path leaving it. */
  readonly reactionBoundMs: number
  /** (b): from the declaration to the data path leaving, for a client with a healthy witness. */
  readonly dataPathBoundMs: number
}

/**
 * Derives the bounds from the quorum timing, the largest one-way delays the run sets (client
 * links and node links) and the client's reaction time once it knows:
 *
 * - notifyBoundMs = leaseMs + heartbeatIntervalMs + 2 x node delay + 3 x client delay.
 *   A witness node W that stays quorate holds a lease at every instant, so by one lease after
 *   the declaration it holds one granted for a heartbeat sent after it; the leader's reply that
 *   granted it carries the leader's committed view. If that leader is the one that declared,
 *   W knows (one lease and a node delay). If the declaring leader's process died, its successor
 *   is elected within about a heartbeat interval (a refused connection ends the old term at
 *   once) and may grant leases on its election votes before its first view commits; that view
 *   commits with the acks of one heartbeat round trip and reaches W with the next heartbeat
 *   (the interval and the second node delay). Then W's witness core answers the held
 *   AsyncNotify at once: one client delay; if the client was between two AsyncNotify calls (a
 *   keep-alive TIMEOUT just answered), its next call's round trip adds two more.
 * - reactionBoundMs = the client's own reaction: a notification moves it at once; a reset
 *   connection is noticed by its next request (the adapter's write interval).
 * - dataPathBoundMs = notifyBoundMs + reactionBoundMs.
 *
 * Measured from the fault rather than the declaration, add the detection time: at once for a
 * process that is gone (a refused connection), detectionMs for a silent one.
 */
export function failoverBounds(timing: QuorumTiming, clientDelayMaxMs: number, nodeDelayMaxMs: number, clientReactionMs: number): FailoverBounds {
  const notifyBoundMs = timing.leaseMs + timing.heartbeatIntervalMs + 2 * nodeDelayMaxMs + 3 * clientDelayMaxMs
  return { notifyBoundMs, reactionBoundMs: clientReactionMs, dataPathBoundMs: notifyBoundMs + clientReactionMs }
}

/** What the checker reads from the simulated world. */
export interface FailoverWorld {
  clientIds(): readonly ClientId[]
  dataAddressOf(client: ClientId): string
  registrationOf(client: ClientId): ClientRegistration | null
  addressOf(node: NodeId): string
  nodeAt(address: string): NodeId | ''
  /** W's process runs and is not paused, W holds a lease, and no cut separates W from the client. */
  witnessHealthy(witness: NodeId, client: ClientId): boolean
  /** W's witness core holds this registration. */
  registrationHeld(witness: NodeId, key: string): boolean
}

interface NotifyDuty {
  readonly client: ClientId
  readonly node: NodeId
  readonly witness: NodeId
  readonly key: string
  readonly declaredAtMs: number
  readonly deadlineMs: number
}

interface LeaveDuty {
  readonly client: ClientId
  readonly node: NodeId
  readonly declaredAtMs: number
  /** Why the current deadline holds, for the violation message. */
  reason: string
  deadlineMs: number
  /** The witness whose health the declaration-based deadline depends on, or '' once none. */
  witness: NodeId | ''
  key: string
}

/** Counts of what the checks saw, for a schedule's summary. */
export interface FailoverTally {
  notifyDuties: number
  notifyMet: number
  notifyExcused: number
  leaveDuties: number
  leaveMet: number
  /** Longest time from a declaration to a notification that met a duty. */
  notifyWorstMs: number
  leaveWorstMs: number
}

export class FailoverInvariants {
  private notifyDuties: NotifyDuty[] = []
  private leaveDuties: LeaveDuty[] = []
  /**
   * What each client already knows of a node being gone ("client|node" -> when and how), kept
   * until the node is declared up or the client gets a new session there: a reset that came
   * before the declaration still sets the client's deadline.
   */
  private readonly knownGone = new Map<string, { readonly atMs: number; readonly reason: string }>()
  readonly tally: FailoverTally = {
    notifyDuties: 0,
    notifyMet: 0,
    notifyExcused: 0,
    leaveDuties: 0,
    leaveMet: 0,
    notifyWorstMs: 0,
    leaveWorstMs: 0,
  }

  constructor(
    readonly bounds: FailoverBounds,
    private readonly world: FailoverWorld,
    /** Names the run in a violation (the seed and how to replay it). */
    private readonly runName: string,
  ) {}

  /** The cluster committed a view that declares `node` down (or up again). */
  onDeclared(node: NodeId, down: boolean, nowMs: number): void {
    if (!down) {
      // Back up before anyone was told: nothing is owed for the old declaration.
      this.notifyDuties = this.notifyDuties.filter((d) => d.node !== node)
      this.leaveDuties = this.leaveDuties.filter((d) => d.node !== node)
      for (const key of [...this.knownGone.keys()]) if (key.endsWith(`|${node}`)) this.knownGone.delete(key)
      return
    }
    const { world, bounds } = this
    const address = world.addressOf(node)
    for (const client of world.clientIds()) {
      const reg = world.registrationOf(client)
      const witness = reg ? world.nodeAt(reg.witnessAddress) : ''
      const watched =
        reg !== null &&
        reg.forAddress === address &&
        witness !== '' &&
        witness !== node &&
        world.witnessHealthy(witness, client) &&
        world.registrationHeld(witness, reg.key)
      if (watched && reg) {
        this.notifyDuties.push({ client, node, witness, key: reg.key, declaredAtMs: nowMs, deadlineMs: nowMs + bounds.notifyBoundMs })
        this.tally.notifyDuties++
      }
      if (world.dataAddressOf(client) === address) {
        const duty: LeaveDuty = {
          client,
          node,
          declaredAtMs: nowMs,
          reason: watched ? `its witness ${witness} was healthy` : 'it could not know yet',
          deadlineMs: watched ? nowMs + bounds.dataPathBoundMs : Infinity,
          witness: watched ? witness : '',
          key: watched && reg ? reg.key : '',
        }
        const known = this.knownGone.get(`${client}|${node}`)
        if (known && known.atMs + bounds.reactionBoundMs < duty.deadlineMs) {
          duty.deadlineMs = known.atMs + bounds.reactionBoundMs
          duty.reason = `${known.reason}, plus ${bounds.reactionBoundMs}ms to move`
        }
        this.leaveDuties.push(duty)
        this.tally.leaveDuties++
      }
    }
  }

  /** An AsyncNotify answer reached a client, on its registration `key` for `aboutNode`. */
  onNotified(client: ClientId, witness: NodeId, key: string, aboutNode: NodeId | '', unavailable: boolean, move: boolean, nowMs: number): void {
    if (!unavailable && !move) return
    this.notifyDuties = this.notifyDuties.filter((d) => {
      if (d.client !== client || d.witness !== witness || d.key !== key) return true
      this.tally.notifyMet++
      this.tally.notifyWorstMs = Math.max(this.tally.notifyWorstMs, nowMs - d.declaredAtMs)
      return false
    })
    if (unavailable && aboutNode !== '') this.learned(client, aboutNode, nowMs, `it was notified at ${nowMs}ms`)
  }

  /** The kernel told a client its data session's connection to `node` broke. */
  onSessionReset(client: ClientId, node: NodeId, nowMs: number): void {
    this.learned(client, node, nowMs, `its session was reset at ${nowMs}ms`)
  }

  /** The client set up a new session on the node: what it knew of the node's death is history. */
  onSessionEstablished(client: ClientId, node: NodeId): void {
    this.knownGone.delete(`${client}|${node}`)
  }

  /** Checks every duty against the world as it is now; throws on a missed bound. */
  check(nowMs: number): void {
    const { world } = this
    if (this.notifyDuties.length > 0) {
      this.notifyDuties = this.notifyDuties.filter((d) => {
        const reg = world.registrationOf(d.client)
        // The client gave the registration up (it moved on by itself): nothing to deliver.
        if (!reg || reg.key !== d.key) return false
        if (!world.witnessHealthy(d.witness, d.client)) {
          this.tally.notifyExcused++
          return false
        }
        if (nowMs > d.deadlineMs) {
          throw new FailoverViolation(
            `(a) ${this.runName}: client ${d.client} registered with ${d.witness} (${d.key}) was not notified within ` +
              `${this.bounds.notifyBoundMs}ms that ${d.node} was declared down at ${d.declaredAtMs}ms (now ${nowMs}ms)`,
          )
        }
        return true
      })
    }
    if (this.leaveDuties.length > 0) {
      this.leaveDuties = this.leaveDuties.filter((d) => {
        if (world.dataAddressOf(d.client) !== world.addressOf(d.node)) {
          this.tally.leaveMet++
          this.tally.leaveWorstMs = Math.max(this.tally.leaveWorstMs, nowMs - d.declaredAtMs)
          return false
        }
        if (d.witness !== '' && !world.witnessHealthy(d.witness, d.client)) {
          // The witness can no longer tell it; only what it learns otherwise sets a bound now.
          d.witness = ''
          if (d.reason.startsWith('its witness')) {
            d.deadlineMs = Infinity
            d.reason = 'it could not know yet'
          }
        }
        if (nowMs > d.deadlineMs) {
          throw new FailoverViolation(
            `(b) ${this.runName}: client ${d.client} kept its data path on ${d.node} past ${d.deadlineMs}ms ` +
              `(declared down at ${d.declaredAtMs}ms; bound: ${d.reason}; now ${nowMs}ms)`,
          )
        }
        return true
      })
    }
  }

  pendingDuties(): number {
    return this.notifyDuties.length + this.leaveDuties.length
  }

  private learned(client: ClientId, node: NodeId, nowMs: number, reason: string): void {
    if (!this.knownGone.has(`${client}|${node}`)) this.knownGone.set(`${client}|${node}`, { atMs: nowMs, reason })
    for (const d of this.leaveDuties) {
      if (d.client !== client || d.node !== node) continue
      const deadline = nowMs + this.bounds.reactionBoundMs
      if (deadline < d.deadlineMs) {
        d.deadlineMs = deadline
        d.reason = `${reason}, plus ${this.bounds.reactionBoundMs}ms to move`
      }
    }
  }
}
