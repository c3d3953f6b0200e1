// The boundary between the whole-system simulator and the code that plays one client: the
// simulator feeds it answers, lost sessions and ticks (with the client's own clock) and
// carries the requests it returns; it reads back where the client's data path and witness
// registration are, which the failover invariants judge.
import type { ClientSend, NodeAnswer } from './client-wire.js'

export type ClientInput =
  | { readonly kind: 'start'; readonly nowMs: number }
  | { readonly kind: 'tick'; readonly nowMs: number }
  | { readonly kind: 'answer'; readonly nowMs: number; readonly requestId: number; readonly answer: NodeAnswer }
  /** The kernel reset the data connection: the node's process died (or restarted). */
  | { readonly kind: 'session-lost'; readonly nowMs: number; readonly address: string }

export type ClientOutput =
  | ClientSend
  /** The client stops waiting for a request's answer and closes its connection. */
  | { readonly kind: 'cancel'; readonly requestId: number }
  | { readonly kind: 'event'; readonly event: string; readonly fields: Readonly<Record<string, unknown>> }

/** What the client believes about its witness registration. */
export interface ClientRegistration {
  /** Address of the witness node it registered with. */
  readonly witnessAddress: string
  readonly key: string
  /** The data-path address it registered interest in (RegisterEx's IpAddress). */
  readonly forAddress: string
}

export interface SimClientLogic {
  step(input: ClientInput): ClientOutput[]
  /** Address of the node its data path is on, or '' while it has none (connecting, moving). */
  dataAddress(): string
  registration(): ClientRegistration | null
}
