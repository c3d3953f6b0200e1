// The two servers every wire conformance case runs against: Samba's smbd (the reference,
// which validates the harness: every case must pass there) and a node of the emulator, once
// `cluster status --json` shows its `smb2` endpoint. Each is started fresh for the test file
// and stopped by the root test's teardown, even when a case fails.
import type { Test } from 'tap'
import { referenceSmbdProblem, startReferenceSmbd } from '../../tools/reference-smbd.js'
import { emulatorTarget, type SmbTarget } from '../../tools/smb-target.js'
import { upCluster } from '../helpers/cluster-fixture.js'

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

/** Both targets, smbd first. */
export async function wireTargets(t: Root, missingTool: string | null, clientNet?: string): Promise<WireTarget[]> {
  return [await smbdTarget(t, missingTool), await nodeTarget(t, missingTool, clientNet)]
}
