// SUT hooks of the conformance suite for a cluster this tool started: kill and start nodes,
// move a witness client (admin client-move on the target node), move a share's CSV.
import { Cluster } from '../../cluster/cluster.js'
import type { SutHooks } from './witness-cases.js'

export function clusterHooks(cluster: Cluster, targetNodeId: string): SutHooks {
  return {
    async disableNode(nodeId) {
      cluster.kill(nodeId)
      // Done when the target node's committed view has the node down: that is when its
      // witness service learns of it.
      const deadline = Date.now() + 15_000
      for (;;) {
        const s = await cluster.admin(targetNodeId).status().catch(() => null)
        if (s?.committed?.members.find((m) => m.id === nodeId)?.state === 'down') return
        if (Date.now() > deadline) throw new Error(`${targetNodeId} did not see ${nodeId} down within 15 s`)
        await new Promise((r) => setTimeout(r, 25))
      }
    },
    async enableNode(nodeId) {
      await cluster.start(nodeId, 15_000)
    },
    async moveWitnessClient(clientComputerName, toNodeId) {
      const reply = await cluster.admin(targetNodeId).witnessAction({
        action: 'client-move',
        filter: { clientComputerName: `^${escapeRegex(clientComputerName)}$` },
        newNode: toNodeId,
      })
      if (!reply.ok) throw new Error(`client-move failed: ${reply.error}`)
    },
    async moveShareOwner(shareName, toNodeId) {
      const share = cluster.config.shares.find((s) => s.name.toLowerCase() === shareName.toLowerCase())
      if (!share) throw new Error(`unknown share ${shareName}`)
      const status = await cluster.status()
      if (status.csvs.find((c) => c.name === share.csv)?.owner === toNodeId) {
        // Already there: move it away first so that the move to toNodeId is a real one.
        const elsewhere = status.nodes.find((n) => n.id !== toNodeId && n.serving)?.id
        if (!elsewhere) throw new Error('no other node to move the share to')
        await cluster.moveCsv(share.csv, elsewhere)
        await cluster.waitFor((s) => s.csvs.some((c) => c.name === share.csv && c.servedBy.includes(elsewhere)), 10_000)
      }
      await cluster.moveCsv(share.csv, toNodeId)
    },
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
