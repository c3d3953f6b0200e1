// A client that only does seed 001's registration and then listens: SMB connect to its data
// node, GetInterfaceList there, RegisterEx with an AVAILABLE witness interface of another
// node, and one AsyncNotify kept outstanding. It never fails over: it stands in for the
// failover core until that is wired in, and keeps the registration flow readable alone.
import { INTERFACE_FLAGS, INTERFACE_STATE, WITNESS_REGISTER_IP_NOTIFICATION, WITNESS_VERSION_2 } from '../../protocol/swn/witness-calls.js'
import { WIN_ERROR } from '../../protocol/swn/win-errors.js'
import type { ClientRequest, NodeAnswer } from './client-wire.js'
import type { ClientInput, ClientOutput, ClientRegistration, SimClientLogic } from './sim-client.js'

/** Pause before a failed step of the registration is tried again. */
export const REGISTRAR_RETRY_MS = 100

export interface RegistrarOptions {
  readonly name: string
  readonly netName: string
  readonly share: string
  readonly dataAddress: string
  /** Register with this node's interface when the list offers it. */
  readonly witnessAddress?: string
  readonly keepAliveTimeoutS: number
}

type Phase = 'connect' | 'list' | 'register' | 'listen' | 'done'

export class RegistrarClient implements SimClientLogic {
  private phase: Phase = 'connect'
  private data = ''
  private reg: ClientRegistration | null = null
  private waiting = -1
  private retryAtMs = Infinity
  private nextRequestId = 1
  private out: ClientOutput[] = []

  constructor(private readonly opts: RegistrarOptions) {}

  dataAddress(): string {
    return this.data
  }

  registration(): ClientRegistration | null {
    return this.reg
  }

  step(input: ClientInput): ClientOutput[] {
    this.out = []
    switch (input.kind) {
      case 'start':
        this.next()
        break
      case 'tick':
        if (input.nowMs >= this.retryAtMs) {
          this.retryAtMs = Infinity
          this.next()
        }
        break
      case 'session-lost':
        if (input.address === this.data) this.data = ''
        break
      case 'answer':
        if (input.requestId === this.waiting) {
          this.waiting = -1
          this.onAnswer(input.answer, input.nowMs)
        }
        break
    }
    return this.out
  }

  private next(): void {
    const { opts } = this
    switch (this.phase) {
      case 'connect':
        return this.send(opts.dataAddress, { kind: 'smb-connect', share: opts.share, previousSessionId: '' })
      case 'list':
        return this.send(this.data, { kind: 'witness-call', call: { method: 'GetInterfaceList' } })
      case 'listen':
        if (this.reg) this.send(this.reg.witnessAddress, { kind: 'witness-call', call: { method: 'AsyncNotify', key: this.reg.key } })
        return
      case 'register':
      case 'done':
        return
    }
  }

  private onAnswer(answer: NodeAnswer, nowMs: number): void {
    const retry = () => {
      this.retryAtMs = nowMs + REGISTRAR_RETRY_MS
    }
    if (answer.kind !== 'smb' && answer.kind !== 'witness-reply') {
      if (this.phase === 'listen') this.phase = 'done'
      else if (this.phase === 'register') this.phase = 'list'
      return retry()
    }
    if (answer.kind === 'smb') {
      if (answer.status !== 'SUCCESS') return retry()
      this.data = this.opts.dataAddress
      this.phase = 'list'
      return this.next()
    }
    const reply = answer.reply
    switch (reply.method) {
      case 'GetInterfaceList': {
        if (reply.result !== WIN_ERROR.SUCCESS) return retry()
        const candidates = reply.interfaces
          .filter((i) => i.state === INTERFACE_STATE.AVAILABLE && (i.flags & INTERFACE_FLAGS.INTERFACE_WITNESS) !== 0 && i.ipv4 !== this.data)
          .map((i) => i.ipv4)
        const witness = candidates.find((ip) => ip === this.opts.witnessAddress) ?? candidates[0]
        if (witness === undefined) return retry()
        this.phase = 'register'
        return this.send(witness, {
          kind: 'witness-call',
          call: {
            method: 'RegisterEx',
            version: WITNESS_VERSION_2,
            netName: this.opts.netName,
            shareName: this.opts.share,
            ipAddress: this.data,
            clientComputerName: this.opts.name,
            flags: WITNESS_REGISTER_IP_NOTIFICATION,
            keepAliveTimeoutS: this.opts.keepAliveTimeoutS,
          },
        })
      }
      case 'RegisterEx':
      case 'Register':
        if (reply.result !== WIN_ERROR.SUCCESS) {
          this.phase = 'list'
          return retry()
        }
        this.reg = { witnessAddress: this.lastTo, key: reply.key, forAddress: this.data }
        this.phase = 'listen'
        return this.next()
      case 'AsyncNotify':
        if (reply.result === WIN_ERROR.SUCCESS || reply.result === WIN_ERROR.TIMEOUT) return this.next()
        this.phase = 'done'
        return
      case 'UnRegister':
      case 'UnRegisterEx':
        return
    }
  }

  private lastTo = ''

  private send(to: string, request: ClientRequest): void {
    this.lastTo = to
    this.waiting = this.nextRequestId++
    this.out.push({ kind: 'send', requestId: this.waiting, to, request })
  }
}
