// The whole-system simulator: N nodes, each a quorum core and a witness core fed cluster
// snapshots from its committed views (as server/node-process.ts feeds them), and M clients,
// all in one seeded, deterministic loop. It adds to the quorum simulator (ClusterSim, which
// it builds on) the client-access network -- SMB sessions and MS-SWN calls as messages that
// succeed only if the node is alive, serving and reachable -- and the failover invariants,
// checked on every step. Every line of what happens can be kept as a transcript.
import { PROFILES, timingOf, type TimingProfile } from '../quorum/profiles.js'
import type { NodeId, Output, View } from '../quorum/types.js'
import { MESSAGE_TYPE, RESOURCE_STATE } from '../../protocol/swn/message-buffer.js'
import type { AdminResult, WitnessOutput, WitnessProfile } from '../witness/witness-core.js'
import { describeRequest, type ClientId, type ClientRequest, type ClientSend, type NodeAnswer } from './client-wire.js'
import { answerText, coreEventText, fieldsText, timeColumn } from './event-lines.js'
import { FailoverInvariants, failoverBounds, type FailoverBounds, type FailoverWorld } from './failover-invariants.js'
import type { ClientInput, ClientRegistration, SimClientLogic } from './sim-client.js'
import { clientReactionMs } from './sim-failover-client.js'
import { SimWitnessHost } from './sim-witness-host.js'
import { ClusterSim, type SimNode } from './simulator.js'

/** The SOFS role's network name: MS-SWN's NetName, as `cluster up` names it by default. */
export const CLUSTER_NET_NAME = 'SOFS'

/**
 * Requests one client may have in flight at once. The failover core keeps one data-path
 * exchange and a few witness calls going; more means a loop that forgot to wait.
 */
export const CLIENT_REQUESTS_IN_FLIGHT_MAX = 32

/** Transcript lines a run keeps; a longer run is a transcript nobody reads, so it stops there. */
export const TRANSCRIPT_LINES_MAX = 20_000

/**
 * Messages parked on one cut client link (both directions). TCP keeps retransmitting across a
 * cut and delivers once it heals; past this the senders are stuck behind a full window, which
 * in a simulation means a runaway sender.
 */
export const PARKED_PER_LINK_MAX = 1_000

/** One-way delay on the client-access network (TCP: never lost, only slow; a cut holds it back). */
export interface ClientNetwork {
  delayBaseMs: number
  delayJitterMs: number
}

export const CALM_CLIENT_NETWORK: ClientNetwork = { delayBaseMs: 0.2, delayJitterMs: 1 }

export interface ClusterSimulatorOptions {
  readonly seed: number
  readonly nodeCount: number
  /** A quorum witness (the tie-breaker vote) is configured. */
  readonly quorumWitness: boolean
  readonly profile?: TimingProfile
  readonly stepMs?: number
  readonly witnessProfile?: WitnessProfile
  /** The largest one-way delay the run will ever set on the client network (for the bounds). */
  readonly clientDelayMaxMs?: number
  /** The largest one-way delay the run will ever set between nodes (for the bounds). */
  readonly nodeDelayMaxMs?: number
  /** How long a client may take to move its data path once it knows its node is gone. */
  readonly clientReactionMs?: number
  /** Names the run in violations, e.g. "seed 42 (replay: ...)". */
  readonly runName?: string
  /** Keep transcript lines. */
  readonly trace?: boolean
}

interface NodeExtras {
  witness: SimWitnessHost | null
  /** Requests that arrived and are not answered yet: their connections break if the process dies. */
  readonly held: Map<number, { readonly client: SimClient; readonly requestId: number; readonly request: ClientRequest }>
  /** Data sessions on this process, by client: the session, its share and the handles open on it. */
  readonly sessions: Map<ClientId, { readonly sessionId: string; readonly share: string; readonly handles: Set<number> }>
  /** Witness calls the core holds, by "client#requestId": what a client's cancel names. */
  readonly witnessCalls: Map<string, number>
  nextHeldId: number
}

interface SimClient {
  readonly id: ClientId
  readonly logic: SimClientLogic
  readonly clockOffsetMs: number
  /** Requests sent and not answered, by request id: where they went and what they were. */
  readonly inFlight: Map<number, { readonly node: NodeId; readonly request: ClientRequest }>
}

export class ClusterSimulator extends ClusterSim {
  readonly profile: TimingProfile
  readonly witnessProfile: WitnessProfile
  readonly shares: readonly { readonly name: string; readonly csv: string }[]
  readonly bounds: FailoverBounds
  readonly invariants: FailoverInvariants
  readonly lines: string[] = []
  clientNetwork: ClientNetwork = { ...CALM_CLIENT_NETWORK }
  /** The newest committed view anywhere: the cluster's declarations. */
  clusterView: View
  /** When the cluster declared each node down; absent while it is up. */
  readonly downSinceMs = new Map<NodeId, number>()
  private readonly extras = new Map<NodeId, NodeExtras>()
  private readonly clients = new Map<ClientId, SimClient>()
  private readonly clientCuts = new Set<string>()
  /** What waits on each cut client link, in order, until the link is restored. */
  private readonly parked = new Map<string, Array<() => void>>()
  /** What the transcript last showed of each client's writes ("<client>>" sends, "<client><" answers). */
  private readonly writeShown = new Map<string, string>()
  /** When each client last got a write acknowledged (simulated ms). */
  private readonly writeAckMs = new Map<ClientId, number>()
  /** Registration key -> the data address it was made for (keys never repeat in a run). */
  private readonly registeredFor = new Map<string, string>()
  private readonly keepLines: boolean
  /** False while the base class boots the nodes, before this class's fields exist. */
  private ready = false

  constructor(opts: ClusterSimulatorOptions) {
    const profile = opts.profile ?? PROFILES.fast
    super({ seed: opts.seed, nodeCount: opts.nodeCount, witness: opts.quorumWitness, profile, stepMs: opts.stepMs, trace: false })
    this.profile = profile
    this.witnessProfile = opts.witnessProfile ?? 'ws2012r2'
    this.shares = this.csvNames.map((csv, i) => ({ name: `share-${i + 1}`, csv }))
    this.keepLines = opts.trace ?? false
    this.clusterView = this.core(this.nodeIds[0])?.committed as View
    const timing = timingOf(profile)
    this.bounds = failoverBounds(
      timing,
      opts.clientDelayMaxMs ?? CALM_CLIENT_NETWORK.delayBaseMs + CALM_CLIENT_NETWORK.delayJitterMs,
      opts.nodeDelayMaxMs ?? this.network.delayBaseMs + this.network.delayJitterMs,
      opts.clientReactionMs ?? clientReactionMs(this.stepMs),
    )
    this.invariants = new FailoverInvariants(this.bounds, this.world(), opts.runName ?? `seed ${opts.seed}`)
    this.ready = true
    for (const id of this.nodeIds) this.onBoot(this.node(id))
  }

  // ---- addresses ----

  addressOf(node: NodeId): string {
    return `127.0.1.${this.nodeIds.indexOf(node) + 1}`
  }

  nodeAt(address: string): NodeId | '' {
    const m = /^127\.0\.1\.(\d+)$/.exec(address)
    return m ? (this.nodeIds[Number(m[1]) - 1] ?? '') : ''
  }

  // ---- clients ----

  /** Adds a client played by `logic` and starts it. */
  addClient(id: ClientId, logic: SimClientLogic): void {
    if (this.clients.has(id)) throw new Error(`client ${id} exists`)
    const client: SimClient = { id, logic, clockOffsetMs: this.rng.int(0, 1_000_000), inFlight: new Map() }
    this.clients.set(id, client)
    this.clientInput(client, { kind: 'start', nowMs: this.clientClock(client) })
  }

  clientIds(): ClientId[] {
    return [...this.clients.keys()]
  }

  client(id: ClientId): SimClientLogic {
    const client = this.clients.get(id)
    if (!client) throw new Error(`unknown client ${id}`)
    return client.logic
  }

  /**
   * Cuts (or restores) the client-access link between a client and a node. What is sent
   * across a cut waits and goes through once the link is restored, as TCP retransmits.
   */
  cutClient(client: ClientId, node: NodeId, cut = true): void {
    const key = `${client}|${node}`
    if (cut === this.clientCuts.has(key)) return
    this.line('-', `${cut ? 'cut' : 'restore'} ${client}~${node}`)
    if (cut) {
      this.clientCuts.add(key)
      return
    }
    this.clientCuts.delete(key)
    const waiting = this.parked.get(key) ?? []
    this.parked.delete(key)
    for (const run of waiting) this.overClientLink(client, node, run)
  }

  healClients(): void {
    for (const key of [...this.clientCuts]) {
      const [client, node] = key.split('|')
      this.cutClient(client, node, false)
    }
  }

  clientLinked(client: ClientId, node: NodeId): boolean {
    return !this.clientCuts.has(`${client}|${node}`)
  }

  // ---- faults and admin (the quorum faults come from ClusterSim) ----

  override crash(id: NodeId): void {
    if (this.core(id)) this.line(id, 'crash')
    super.crash(id)
  }

  override restart(id: NodeId): void {
    if (!this.core(id)) this.line(id, 'restart')
    super.restart(id)
  }

  override pause(id: NodeId): void {
    if (this.isRunning(id)) this.line(id, 'pause')
    super.pause(id)
  }

  override resume(id: NodeId): void {
    if (this.core(id) && !this.isRunning(id)) this.line(id, 'resume')
    super.resume(id)
  }

  override partition(groups: NodeId[][]): void {
    this.line('-', `partition ${groups.map((g) => g.join(',')).join(' / ')}`)
    super.partition(groups)
  }

  override heal(): void {
    this.line('-', 'heal')
    super.heal()
  }

  /** `net witness client-move` on node `via`: moves the named client's registrations to `to`. */
  clientMove(via: NodeId, client: ClientId, to: NodeId): AdminResult {
    const node = this.node(via)
    const host = this.extra(via).witness
    if (!host || !this.isRunning(via)) return { ok: false, error: `${via} is not running` }
    const done = host.core.clientMove({ clientComputerName: `^${client}$` }, { nodeId: to }, this.clock(node))
    this.witnessEvents(node, host.apply(done.outputs))
    return done.result
  }

  // ---- observation ----

  witnessHost(node: NodeId): SimWitnessHost | null {
    return this.extras.get(node)?.witness ?? null
  }

  /** When the client last got a write acknowledged, or -Infinity. */
  lastWriteAckMs(client: ClientId): number {
    return this.writeAckMs.get(client) ?? -Infinity
  }

  /** A node whose process runs, is not paused and holds a serving lease. */
  serving(node: NodeId): boolean {
    const core = this.core(node)
    return core !== null && this.isRunning(node) && core.isServing(this.clockOf(node))
  }

  // ---- extension points of ClusterSim ----

  protected override onBoot(node: SimNode): void {
    if (!this.ready) return
    this.extras.set(node.id, {
      witness: new SimWitnessHost({
        nodeId: node.id,
        nodeIds: this.nodeIds,
        addressOf: (id) => this.addressOf(id),
        serverGlobalName: CLUSTER_NET_NAME,
        profile: this.witnessProfile,
        shares: this.shares,
        incarnation: node.incarnation,
      }),
      held: new Map(),
      sessions: new Map(),
      witnessCalls: new Map(),
      nextHeldId: 1,
    })
    const core = node.core
    if (core) this.witnessEvents(node, this.extra(node.id).witness?.maybeUpdate(core.committed, this.clock(node)) ?? [])
  }

  protected override onCrash(node: SimNode): void {
    const extra = this.extra(node.id)
    extra.witness = null
    // The kernel resets every connection of the dead process: held requests and sessions.
    for (const held of extra.held.values()) this.answer(held.client, node.id, held.requestId, held.request, { kind: 'reset' })
    extra.held.clear()
    extra.witnessCalls.clear()
    for (const clientId of extra.sessions.keys()) {
      const client = this.clients.get(clientId)
      if (!client) continue
      const address = this.addressOf(node.id)
      this.overClientLink(clientId, node.id, () => {
        this.line(clientId, `smb.session.lost node=${node.id}`)
        this.invariants.onSessionReset(clientId, node.id, this.nowMs)
        this.clientInput(client, { kind: 'session-lost', nowMs: this.clientClock(client), address })
      })
    }
    extra.sessions.clear()
  }

  protected override onResumeTimers(node: SimNode): void {
    const host = this.extra(node.id).witness
    if (host) this.witnessEvents(node, host.maybeTick(this.clock(node)))
  }

  protected override afterInput(node: SimNode, outputs: readonly Output[]): void {
    const core = node.core
    if (!core) return
    for (const out of outputs) {
      if (out.kind !== 'event' || out.event === 'view.committed') continue
      const text = coreEventText(out.event, out.fields)
      if (text !== null) this.line(node.id, text)
    }
    if (core.committed.epoch > this.clusterView.epoch) this.onClusterView(core.committed)
    const host = this.extra(node.id).witness
    if (host) this.witnessEvents(node, host.maybeUpdate(core.committed, this.clock(node)))
  }

  protected override afterStep(): void {
    for (const id of this.nodeIds) {
      if (!this.isRunning(id)) continue
      const node = this.node(id)
      const host = this.extra(id).witness
      if (host) this.witnessEvents(node, host.maybeTick(this.clock(node)))
    }
    for (const client of this.clients.values()) this.clientInput(client, { kind: 'tick', nowMs: this.clientClock(client) })
    this.invariants.check(this.nowMs)
  }

  // ---- the cluster's declarations ----

  private onClusterView(view: View): void {
    const before = this.clusterView
    this.clusterView = view
    this.line(
      '-',
      `view.committed ${fieldsText([
        ['epoch', view.epoch],
        ['leader', view.leaderId],
        ['up', view.members.filter((m) => m.state === 'up').map((m) => m.id)],
        ['owners', view.csvs.map((c) => `${c.name}:${c.owner || '-'}`)],
      ])}`,
    )
    for (const m of view.members) {
      const was = before.members.find((x) => x.id === m.id)?.state ?? 'up'
      if (was === m.state) continue
      if (m.state === 'down') this.downSinceMs.set(m.id, this.nowMs)
      else this.downSinceMs.delete(m.id)
      this.invariants.onDeclared(m.id, m.state === 'down', this.nowMs)
    }
  }

  // ---- the client-access network ----

  private clientInput(client: SimClient, input: ClientInput): void {
    for (const out of client.logic.step(input)) {
      if (out.kind === 'event') {
        const text = fieldsText(Object.entries(out.fields))
        this.line(client.id, text === '' ? out.event : `${out.event} ${text}`)
        continue
      }
      if (out.kind === 'cancel') this.cancel(client, out.requestId)
      else this.send(client, out)
    }
  }

  /** The client gave up waiting: it closes that call's connection; a reachable node cancels the call. */
  private cancel(client: SimClient, requestId: number): void {
    const sent = client.inFlight.get(requestId)
    if (!sent) return
    client.inFlight.delete(requestId)
    this.line(client.id, `-x ${sent.node} ${describeRequest(sent.request)}`)
    const nodeId = sent.node
    this.overClientLink(client.id, nodeId, () => {
      const node = this.node(nodeId)
      if (!node.core) return
      const extra = this.extra(nodeId)
      this.atNode(node, () => {
        const callId = extra.witnessCalls.get(`${client.id}#${requestId}`)
        const host = extra.witness
        if (callId === undefined || !host) return
        extra.witnessCalls.delete(`${client.id}#${requestId}`)
        this.witnessEvents(node, host.cancel(callId, this.clock(node)))
      })
    })
  }

  private send(client: SimClient, out: ClientSend): void {
    const nodeId = this.nodeAt(out.to)
    if (client.inFlight.size >= CLIENT_REQUESTS_IN_FLIGHT_MAX) {
      throw new Error(`client ${client.id} has ${CLIENT_REQUESTS_IN_FLIGHT_MAX} requests in flight (at ${this.nowMs}ms)`)
    }
    if (this.writeSendShown(client, nodeId, out.request)) this.line(client.id, `-> ${nodeId || out.to} ${describeRequest(out.request)}`)
    if (nodeId === '') {
      // No host has that address: the connection attempt gets no answer, as on a LAN.
      return
    }
    client.inFlight.set(out.requestId, { node: nodeId, request: out.request })
    this.overClientLink(client.id, nodeId, () => this.arrive(client, nodeId, out))
  }

  private arrive(client: SimClient, nodeId: NodeId, out: ClientSend): void {
    const node = this.node(nodeId)
    if (!node.core) {
      this.answer(client, nodeId, out.requestId, out.request, { kind: 'refused' })
      return
    }
    const extra = this.extra(nodeId)
    const heldId = extra.nextHeldId++
    extra.held.set(heldId, { client, requestId: out.requestId, request: out.request })
    const incarnation = node.incarnation
    this.atNode(node, () => {
      if (node.incarnation !== incarnation) return
      this.serve(client, node, out, () => extra.held.delete(heldId))
    })
  }

  /** The node handles one request; `release` forgets it as held once it is answered. */
  private serve(client: SimClient, node: SimNode, out: ClientSend, release: () => void): void {
    const core = node.core
    const extra = this.extra(node.id)
    if (!core) return
    const nowMs = this.clock(node)
    const reply = (answer: NodeAnswer) => {
      release()
      this.answer(client, node.id, out.requestId, out.request, answer)
    }
    const request = out.request
    const servingNow = core.isServing(nowMs)
    switch (request.kind) {
      case 'smb-connect': {
        if (!servingNow) return reply({ kind: 'smb', status: 'NOT_SERVING', sessionId: '' })
        const sessionId = `${node.id.replace(/^node-/, 's')}.${node.incarnation}.${client.id}`
        extra.sessions.set(client.id, { sessionId, share: request.share, handles: new Set() })
        return reply({ kind: 'smb', status: 'SUCCESS', sessionId })
      }
      case 'smb-open':
      case 'smb-reclaim':
      case 'smb-write': {
        const session = extra.sessions.get(client.id)
        if (session === undefined) return reply({ kind: 'smb', status: 'SESSION_DELETED', sessionId: '' })
        const { sessionId } = session
        if (!servingNow) return reply({ kind: 'smb', status: 'NOT_SERVING', sessionId })
        // A write goes through a FileId this session got from a CREATE or a DH2C.
        if (request.kind === 'smb-write' && !session.handles.has(request.handleId)) return reply({ kind: 'smb', status: 'FILE_CLOSED', sessionId })
        if (!this.shareServedVia(node.id, session.share)) return reply({ kind: 'smb', status: 'CSV_UNAVAILABLE', sessionId })
        if (request.kind !== 'smb-write') session.handles.add(request.handleId)
        return reply({ kind: 'smb', status: 'SUCCESS', sessionId })
      }
      case 'smb-logoff':
        extra.sessions.delete(client.id)
        return reply({ kind: 'smb', status: 'SUCCESS', sessionId: '' })
      case 'witness-call': {
        // server/swn/witness-service.ts: a node without quorum or lease answers no witness call.
        const host = extra.witness
        if (!host || !servingNow) return reply({ kind: 'witness-unavailable' })
        const callKey = `${client.id}#${out.requestId}`
        const { callId, events } = host.call(client.id, request.call, nowMs, (witnessReply) => {
          extra.witnessCalls.delete(callKey)
          reply({ kind: 'witness-reply', reply: witnessReply })
        })
        if (host.isHeld(callId)) extra.witnessCalls.set(callKey, callId)
        this.witnessEvents(node, events)
        return
      }
    }
  }

  /**
   * The share's CSV has an owner that serves it now and takes IO forwarded from `via` (S2D:
   * the owner serves all IO of its CSV; `via` routes by its own committed view).
   */
  private shareServedVia(via: NodeId, share: string): boolean {
    const core = this.core(via)
    const csv = this.shares.find((s) => s.name === share)?.csv
    if (!core || csv === undefined) return false
    const owner = core.committed.csvs.find((c) => c.name === csv)?.owner ?? ''
    if (owner === '') return false
    const ownerCore = this.core(owner)
    return ownerCore !== null && this.isRunning(owner) && ownerCore.servingCsvs(this.clockOf(owner)).includes(csv) && (owner === via || this.linked(via, owner))
  }

  private answer(client: SimClient, nodeId: NodeId, requestId: number, request: ClientRequest, answer: NodeAnswer): void {
    this.overClientLink(client.id, nodeId, () => {
      if (!client.inFlight.delete(requestId)) return
      if (request.kind === 'smb-connect' && answer.kind === 'smb' && answer.status === 'SUCCESS') this.invariants.onSessionEstablished(client.id, nodeId)
      const acked = request.kind === 'smb-write' && answer.kind === 'smb' && answer.status === 'SUCCESS'
      if (acked) this.writeAckMs.set(client.id, this.nowMs)
      if (this.writeAnswerShown(client, nodeId, request, answer)) this.line(client.id, `<- ${nodeId} ${answerText(request, answer)}`)
      if (answer.kind === 'witness-reply' && answer.reply.method === 'AsyncNotify' && answer.reply.notify && request.kind === 'witness-call' && request.call.method === 'AsyncNotify') {
        const n = answer.reply.notify
        const unavailable = n.messageType === MESSAGE_TYPE.RESOURCE_CHANGE && n.resourceChanges.some((c) => c.changeType === RESOURCE_STATE.UNAVAILABLE)
        const move = n.messageType === MESSAGE_TYPE.CLIENT_MOVE || n.messageType === MESSAGE_TYPE.SHARE_MOVE
        const key = request.call.key
        this.invariants.onNotified(client.id, nodeId, key, this.nodeAt(this.registeredFor.get(key) ?? ''), unavailable, move, this.nowMs)
      }
      this.clientInput(client, { kind: 'answer', nowMs: this.clientClock(client), requestId, answer })
    })
  }

  /**
   * A steady writer's every write would drown the story: a transcript shows a write when it
   * is a replay to another node than the last one shown, and an answer when its node or
   * status differs from the client's previous write answer. Other requests always show.
   */
  private writeSendShown(client: SimClient, nodeId: NodeId | '', request: ClientRequest): boolean {
    if (request.kind !== 'smb-write') return true
    if (!request.replay || this.writeShown.get(`${client.id}>`) === nodeId) return false
    this.writeShown.set(`${client.id}>`, nodeId)
    return true
  }

  private writeAnswerShown(client: SimClient, nodeId: NodeId, request: ClientRequest, answer: NodeAnswer): boolean {
    if (request.kind !== 'smb-write') return true
    const key = `${nodeId} ${answer.kind === 'smb' ? answer.status : answer.kind}`
    const before = this.writeShown.get(`${client.id}<`) ?? `${nodeId} SUCCESS`
    this.writeShown.set(`${client.id}<`, key)
    // After a success the next run of replays shows again.
    if (key.endsWith(' SUCCESS')) this.writeShown.delete(`${client.id}>`)
    return key !== before
  }

  /** Runs `run` after one client-network delay, or once the link is restored if it is cut. */
  private overClientLink(client: ClientId, node: NodeId, run: () => void): void {
    const key = `${client}|${node}`
    const park = () => {
      const queue = this.parked.get(key) ?? []
      if (queue.length >= PARKED_PER_LINK_MAX) throw new Error(`${PARKED_PER_LINK_MAX} messages parked on ${client}~${node} (at ${this.nowMs}ms)`)
      queue.push(run)
      this.parked.set(key, queue)
    }
    if (this.clientCuts.has(key)) return park()
    this.schedule(this.clientDelay(), () => (this.clientCuts.has(key) ? park() : run()))
  }

  // ---- helpers ----

  private witnessEvents(node: SimNode, events: readonly WitnessOutput[]): void {
    // What a witness service with no registration learns concerns nobody: leave it out.
    const quiet = (this.extras.get(node.id)?.witness?.core.registrationCount() ?? 0) === 0
    for (const e of events) {
      if (e.kind !== 'event') continue
      if (e.event === 'witness.registered') this.registeredFor.set(String(e.fields.registration), String(e.fields.ip))
      if (quiet && e.event !== 'witness.registered' && e.event !== 'witness.unregistered') continue
      const text = coreEventText(e.event, e.fields)
      if (text !== null) this.line(node.id, text)
    }
  }

  private extra(id: NodeId): NodeExtras {
    const extra = this.extras.get(id)
    if (!extra) throw new Error(`no state for node ${id}`)
    return extra
  }

  private clientClock(client: SimClient): number {
    return this.nowMs + client.clockOffsetMs
  }

  private clientDelay(): number {
    return this.clientNetwork.delayBaseMs + this.rng.next() * this.clientNetwork.delayJitterMs
  }

  private line(who: string, text: string): void {
    if (!this.keepLines || this.lines.length >= TRANSCRIPT_LINES_MAX) return
    this.lines.push(`${timeColumn(this.nowMs)} ${who === '-' ? '' : `${who} `}${text}`)
  }

  /** Adds a line of the caller's own (a transcript command's result). */
  note(text: string): void {
    this.line('-', text)
  }

  private world(): FailoverWorld {
    return {
      clientIds: () => [...this.clients.keys()],
      dataAddressOf: (id) => this.clients.get(id)?.logic.dataAddress() ?? '',
      registrationOf: (id): ClientRegistration | null => this.clients.get(id)?.logic.registration() ?? null,
      addressOf: (node) => this.addressOf(node),
      nodeAt: (address) => this.nodeAt(address),
      witnessHealthy: (witness, client) => {
        const core = this.core(witness)
        return core !== null && this.isRunning(witness) && core.hasQuorum(this.clockOf(witness)) && this.clientLinked(client, witness)
      },
      registrationHeld: (witness, key) => {
        const host = this.extras.get(witness)?.witness
        if (!host) return false
        const listed = host.core.list({ registrationId: key })
        return !('error' in listed) && listed.length > 0
      },
    }
  }
}
