// A clusapi resource taken offline or online on one node must reach the witness registrations
// held by every node, as a real cluster's resource state is cluster-wide. Each node's witness
// host is reachable through its admin service (`swlab witness force-response` uses the same
// action), so the change is sent there, best effort, and each outcome is one log line.
import type { Logger } from 'pino'
import { NodeAdmin } from '../../cluster/admin-client.js'
import type { NodeConfig } from '../../cluster/config.js'
import type { Credential } from '../../cluster/credentials.js'
import type { ForcedNotification } from './clusapi-rpc-interface.js'

export class ClusapiPeerFanOut {
  /** Peers' admin clients, opened on first use. */
  private readonly peerAdmins = new Map<string, NodeAdmin>()

  constructor(
    private readonly selfId: string,
    private readonly nodes: readonly NodeConfig[],
    private readonly admin: Credential | undefined,
    private readonly log: Logger,
  ) {}

  fanOut(forced: ForcedNotification): void {
    if (!this.admin) return
    for (const peer of this.nodes) {
      if (peer.id === this.selfId) continue
      let client = this.peerAdmins.get(peer.id)
      if (!client) {
        client = new NodeAdmin(peer, this.admin)
        this.peerAdmins.set(peer.id, client)
      }
      const { response } = forced
      client
        .witnessAction({
          action: 'force-response',
          filter: { ...forced.filter, applyToAll: false },
          result: response.result,
          messageType: response.messageType,
          resourceChanges: response.resourceChanges ?? [],
          ipAddresses: response.ipAddresses ?? [],
        })
        .then(
          (reply) => this.log.info({ component: 'dcerpc', event: 'clusapi.fanout', peer: peer.id, ok: reply.ok, affected: reply.affected, error: reply.error || undefined }),
          (err: Error) => this.log.info({ component: 'dcerpc', event: 'clusapi.fanout', peer: peer.id, ok: false, error: err.message }),
        )
    }
  }

  close(): void {
    for (const client of this.peerAdmins.values()) client.close()
    this.peerAdmins.clear()
  }
}
