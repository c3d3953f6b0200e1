// The two servers every wire conformance case runs against: Samba's smbd (the reference,
// which validates the harness: every case must pass there) and a node of the emulator, once
// `cluster status --json` shows its `smb2` endpoint. Each is started fresh for the test file
// and stopped by the root test's teardown, even when a case fails.
import type { Test } from 'tap'
import { referenceSmbdProblem, startReferenceSmbd } from '../../tools/reference-smbd.js'
import { emulatorTarget, type SmbTarget } from '../../tools/smb-target.js'
import { acceptsConnections, upCluster } from '../helpers/cluster-fixture.js'
import { waitUntil } from '../../cluster/processes.js'

export interface WireTarget {
  readonly label: string
  readonly target: SmbTarget | null
  /** Why the cases against it skip; false when they run. */
  readonly skip: string | false
}

type Root = Pick<Test, 'teardown'>

export async function smbdTarget(t: Root, missingTool: string | null): Promise<WireTarget> {
  const label = "Samba's smbd (reference)"
  if (missingTool) return { label, target: null, skip: missingTool }
  const problem = referenceSmbdProblem()
  if (problem) return { label, target: null, skip: problem }
  const server = await startReferenceSmbd()
  t.teardown(() => server.stop())
  return { label: `${label} ${server.version.replace(/^Version /, '')}`, target: server.target, skip: false }
}

export async function nodeTarget(t: Root, missingTool: string | null, clientNet?: string): Promise<WireTarget> {
  const label = 'node-1 of the emulator'
  if (missingTool) return { label, target: null, skip: missingTool }
  const cluster = await upCluster(t, { nodes: 1, ...(clientNet ? { clientNet } : {}) })
  const found = await emulatorTarget(cluster)
  if ('missing' in found) return { label, target: null, skip: found.missing }
  return { label, target: found.target, skip: false }
}

/**
 * A one-node cluster's CA scale-out share (share-1) and a CA share of a general-use file server
 * role on the same node (gen-1, its role FS-1 at <clientNet>.101, which node-1 owns): Windows
 * and smbtorture treat the two kinds differently (issue 15 item 6), so the gate runs both.
 */
export async function shareKindTargets(t: Root, missingTool: string | null, clientNet: string): Promise<{ scaleOut: WireTarget; general: WireTarget }> {
  const scaleOutLabel = 'node-1 of the emulator, CA scale-out share'
  const generalLabel = 'node-1 of the emulator, CA share of a general-use role'
  if (missingTool) return { scaleOut: { label: scaleOutLabel, target: null, skip: missingTool }, general: { label: generalLabel, target: null, skip: missingTool } }
  const cluster = await upCluster(t, { nodes: 1, clientNet })
  await cluster.addShare(GENERAL_SHARE, 'csv-1', { kind: 'general', roleName: 'FS-1', roleAddress: `${clientNet}.101` })
  // The role is online once node-1 has opened its address (it serves csv-1 already).
  const role = cluster.config.shares.find((s) => s.name === GENERAL_SHARE)?.role
  const online = role !== undefined && (await waitUntil(() => acceptsConnections(role.address, role.smb2Port), 10_000, 50))
  cluster.closeAdmins()
  const target = async (label: string, share?: string): Promise<WireTarget> => {
    const found = await emulatorTarget(cluster, 'node-1', share)
    if ('missing' in found) return { label, target: null, skip: found.missing }
    return { label, target: found.target, skip: false }
  }
  return {
    scaleOut: await target(scaleOutLabel),
    general: online ? await target(`${generalLabel} (FS-1 at ${clientNet}.101)`, GENERAL_SHARE) : { label: generalLabel, target: null, skip: 'the general role did not come online' },
  }
}

/** The general-use role's share that shareKindTargets creates. */
export const GENERAL_SHARE = 'gen-1'

/** Both targets, smbd first. */
export async function wireTargets(t: Root, missingTool: string | null, clientNet?: string): Promise<WireTarget[]> {
  return [await smbdTarget(t, missingTool), await nodeTarget(t, missingTool, clientNet)]
}
