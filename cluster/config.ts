// The cluster configuration file: what `cluster up` writes and every node process reads.
// Parsing returns a typed result so that a malformed file becomes one clear line, never a crash.
import { readFileSync } from 'node:fs'
import { isProfileName, type ProfileName } from '../core/quorum/profiles.js'
import { WITNESS_PROFILES, type WitnessProfile } from '../core/witness/witness-profiles.js'


/** The most nodes a cluster may have: a Windows Server failover cluster's maximum. */
export const NODES_MAX = 64

export type WitnessKind = 'none' | 'file' | 'cloud'
export type CsvMode = 's2d' | 'san'
export type ServerFlavour = 'microsoft' | 'third-party'

export interface NodeConfig {
  readonly id: string
  /** Loopback address clients use for this node (127.0.1.N). */
  readonly clientAddress: string
  /** Loopback address of cluster (peer and admin) traffic (127.0.2.N). */
  readonly clusterAddress: string
  readonly peerPort: number
  readonly adminPort: number
  /** Port of the SMB witness service (gRPC front) on the client address. */
  readonly witnessPort: number
  /**
   * Port of the vendor CBT service (gRPC, proto/cbt.proto) on the client address. It also
   * carried the private gRPC SMB data path until issue 15 moved every client to the wire
   * (smb2Port); the name stays so that existing cluster configs still load.
   */
  readonly smbPort: number
  /** Port of the witness service on the real wire (DCE/RPC ncacn_ip_tcp); absent: not served. */
  readonly dcerpcPort?: number
  /** Port of the Prometheus metrics (HTTP GET /metrics) on the client address; absent: none. */
  readonly metricsPort?: number
  /** Port of SMB 2/3 on the real wire (direct TCP; 445 where it could be bound) on the client address; absent: not served. */
  readonly smb2Port?: number
}

/**
 * The two kinds of CA share a Windows cluster has: a share of the Scale-Out File Server role
 * (online on every node, SCALEOUT, STYPE_CLUSTER_SOFS) and a share of a general-use file server
 * role (online on the role's owner only, reached through the role's own network name and IP
 * address, which move with the role on failover; STYPE_CLUSTER_FS, no SCALEOUT).
 */
export type ShareKind = 'scale-out' | 'general'

/** A general-use file server role: its network name and client access point (IP and SMB port). */
export interface RoleConfig {
  /** The role's network name (MS-SWN NetName of its clients' registrations), e.g. FS-1. */
  readonly name: string
  /** The role's own loopback address (127.0.3.K by default), served by the role's owner only. */
  readonly address: string
  /** The SMB 2/3 port the owner opens on that address. */
  readonly smb2Port: number
}

export interface ShareConfig {
  /** SMB share name. */
  readonly name: string
  readonly csv: string
  /** Absent: scale-out (every share before general roles existed). */
  readonly kind?: ShareKind
  /** The general-use role the share belongs to (kind general only); its owner is the owner of the CSV. */
  readonly role?: RoleConfig
  /** Continuously available (persistent handles); true unless created with --no-ca. */
  readonly ca?: boolean
  /** The share's CATimeout in ms (0: the server default applies). */
  readonly caTimeoutMs?: number
  /** SMB 3 encryption required on this share (SMB2_SHAREFLAG_ENCRYPT_DATA). */
  readonly encrypt?: boolean
}

export interface WitnessConfig {
  readonly kind: WitnessKind
  /** Shared folder of the file-share witness. */
  readonly path?: string
  /** Base URL of the cloud witness service. */
  readonly url?: string
}

export interface ClusterConfig {
  readonly name: string
  readonly dir: string
  readonly profile: ProfileName
  readonly nodes: readonly NodeConfig[]
  readonly csvs: readonly string[]
  readonly witness: WitnessConfig
  readonly csvMode: CsvMode
  readonly flavour: ServerFlavour
  /**
   * Each node also answers the endpoint mapper (ept_map) on its client address, TCP 135, for
   * clients that always ask it (rpcclient). Needs a process that may bind port 135.
   */
  readonly epm?: boolean
  /**
   * The DCE/RPC witness front also serves unauthenticated (and connect-level) binds. Without it,
   * every profile refuses witness calls below packet integrity with access denied, as Windows
   * (MS-SWN 7) and Samba's rpcd_witness do.
   */
  readonly witnessAllowAnonymous?: boolean
  /**
   * The longest a node holds a witness AsyncNotify, in seconds, whatever KeepAliveTimeout the
   * client registered with; absent: the client's. A test knob (smbtorture's AsyncNotify_timeouts
   * waits out keep-alives of up to 120 s), not a Windows or Samba behaviour.
   */
  readonly witnessKeepAliveMaxS?: number
  readonly shares: readonly ShareConfig[]
  /** Which server's MS-SWN behaviour the witness service follows. */
  readonly witnessProfile: WitnessProfileName
  /** Per-node cap on data IO served, in bytes/s (0: unlimited). */
  readonly ioBandwidthBytesPerSecond: number
  /** Cluster functional level: 8 (2012 R2), 9 (2016), 10 (2019), 11 (2022). Backups read it. */
  readonly functionalLevel: number
  /** `smb2 signing`: required (the default, as Windows Server 2022's and the issue's) or enabled. */
  readonly smb2Signing?: 'required' | 'enabled'
  /** `--smb-encrypt`: every SMB 3 session encrypts (SMB2_SESSION_FLAG_ENCRYPT_DATA). */
  readonly smbEncrypt?: boolean
  /**
   * How this lab's own failover clients (hosts, backup agent, demo clients) protect their witness
   * calls: absent or 'privacy', sealed as Windows clients bind; 'integrity', signed with readable
   * stubs, so that a capture shows every witness call (`swlab demo --pcap`: tshark 4.0 cannot
   * decrypt more than the first sealed call each way of an SPNEGO-wrapped NTLMSSP association).
   */
  readonly clientWitnessAuthLevel?: 'integrity' | 'privacy'
  /**
   * The cluster runs in a network namespace of its own (`cluster up --netns`): network faults are
   * nftables rules the harness applies there, never configured in a node. Each node then also
   * listens for its peer service on one link address per other node (peerLinkAddress) and for
   * its admin service on a unix socket in the cluster folder (adminSocketPath), which reaches the
   * namespace from outside.
   */
  readonly network?: NetworkConfig
  /**
   * The emulated storage array (issue 17 item 2; `cluster up` starts it): every write and
   * metadata change of the data path goes through it under the node's SCSI-3-style reservation
   * key, so that a node preempted when it was declared down cannot write. Absent: nodes write
   * the shared folder themselves (configs written by hand, tests of one node).
   */
  readonly storageArray?: StorageArrayConfig
}

export interface StorageArrayConfig {
  /** The array's unix socket (a storage fabric apart from the cluster's network). */
  readonly socket: string
}

/** sun_path holds 108 bytes with its terminating NUL. */
const UNIX_SOCKET_PATH_BYTES_MAX = 107

/** Where a cluster's network lives; see ClusterConfig.network. */
export interface NetworkConfig {
  /** The named network namespace (`ip netns`), /run/netns/<namespace>. */
  readonly namespace: string
}

/** A network namespace name of ours: a file name under /run/netns. */
export const NAMESPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/** The functional levels a cluster can run at; 10 (Windows Server 2019) unless asked. */
export const FUNCTIONAL_LEVEL_MIN = 8
export const FUNCTIONAL_LEVEL_MAX = 11
export const DEFAULT_FUNCTIONAL_LEVEL = 10

/** A one-line problem with a functional level, or null when it is one of 8..11. */
export function functionalLevelProblem(level: unknown): string | null {
  if (typeof level === 'number' && Number.isInteger(level) && level >= FUNCTIONAL_LEVEL_MIN && level <= FUNCTIONAL_LEVEL_MAX) return null
  return `the cluster functional level must be an integer from ${FUNCTIONAL_LEVEL_MIN} to ${FUNCTIONAL_LEVEL_MAX} (8 = 2012 R2, 9 = 2016, 10 = 2019, 11 = 2022), got ${JSON.stringify(level)}`
}

export type WitnessProfileName = WitnessProfile

export function isWitnessProfileName(name: unknown): name is WitnessProfileName {
  return (WITNESS_PROFILES as readonly unknown[]).includes(name)
}

export type ConfigResult = { ok: true; config: ClusterConfig } | { ok: false; error: string }

const NODE_ID = /^[a-z][a-z0-9-]{0,31}$/
/** A role's network name: a NetBIOS-style name of at most 15 characters. */
export const ROLE_NAME = /^[A-Za-z][A-Za-z0-9-]{0,14}$/

/** The kind of a share: absent is scale-out. */
export function shareKindOf(share: Pick<ShareConfig, 'kind'>): ShareKind {
  return share.kind ?? 'scale-out'
}
const LOOPBACK_V4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

export function isLoopback(address: string): boolean {
  const m = LOOPBACK_V4.exec(address)
  return (m !== null && m.slice(1).every((x) => Number(x) <= 255)) || address === '::1'
}

/** Checks a parsed config object; every problem is reported as one line. */
export function validateConfig(raw: unknown): ConfigResult {
  const fail = (error: string): ConfigResult => ({ ok: false, error })
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('config must be a JSON object')
  const c = raw as Record<string, unknown>
  if (typeof c.name !== 'string' || c.name === '') return fail('config.name must be a non-empty string')
  if (typeof c.dir !== 'string' || c.dir === '') return fail('config.dir must be a non-empty string')
  if (typeof c.profile !== 'string' || !isProfileName(c.profile)) {
    return fail(`config.profile must be one of fast, ws2012, ws2016, ctdb (got ${JSON.stringify(c.profile)})`)
  }
  if (!Array.isArray(c.nodes) || c.nodes.length === 0) return fail('config.nodes must be a non-empty array')
  if (c.nodes.length > NODES_MAX) return fail(`at most ${NODES_MAX} nodes are supported (got ${c.nodes.length})`)
  const nodes: NodeConfig[] = []
  const seenIds = new Set<string>()
  const seenEndpoints = new Set<string>()
  for (const [i, n] of (c.nodes as unknown[]).entries()) {
    if (typeof n !== 'object' || n === null) return fail(`config.nodes[${i}] must be an object`)
    const node = n as Record<string, unknown>
    if (typeof node.id !== 'string' || !NODE_ID.test(node.id)) {
      return fail(`config.nodes[${i}].id must match ${NODE_ID} (got ${JSON.stringify(node.id)})`)
    }
    if (seenIds.has(node.id)) return fail(`duplicate node id ${node.id}`)
    seenIds.add(node.id)
    for (const key of ['clientAddress', 'clusterAddress'] as const) {
      const address = node[key]
      if (typeof address !== 'string' || !isLoopback(address)) {
        return fail(`config.nodes[${i}].${key} must be a loopback address (got ${JSON.stringify(address)})`)
      }
    }
    for (const key of ['peerPort', 'adminPort', 'witnessPort', 'smbPort', 'dcerpcPort', 'metricsPort', 'smb2Port'] as const) {
      const port = node[key]
      if ((key === 'dcerpcPort' || key === 'metricsPort' || key === 'smb2Port') && port === undefined) continue
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        return fail(`config.nodes[${i}].${key} must be a port number (got ${JSON.stringify(port)})`)
      }
      const onClientAddress = key !== 'peerPort' && key !== 'adminPort'
      const endpoint = `${String(onClientAddress ? node.clientAddress : node.clusterAddress)}:${port}`
      if (seenEndpoints.has(endpoint)) return fail(`two listeners on ${endpoint}`)
      seenEndpoints.add(endpoint)
    }
    nodes.push({
      id: node.id,
      clientAddress: node.clientAddress as string,
      clusterAddress: node.clusterAddress as string,
      peerPort: node.peerPort as number,
      adminPort: node.adminPort as number,
      witnessPort: node.witnessPort as number,
      smbPort: node.smbPort as number,
      ...(node.dcerpcPort !== undefined ? { dcerpcPort: node.dcerpcPort as number } : {}),
      ...(node.metricsPort !== undefined ? { metricsPort: node.metricsPort as number } : {}),
      ...(node.smb2Port !== undefined ? { smb2Port: node.smb2Port as number } : {}),
    })
  }
  if (!Array.isArray(c.csvs) || c.csvs.some((x) => typeof x !== 'string' || !NODE_ID.test(x))) {
    return fail('config.csvs must be an array of CSV names')
  }
  if (new Set(c.csvs).size !== c.csvs.length) return fail('duplicate CSV names in config.csvs')
  const w = c.witness as Record<string, unknown> | undefined
  if (typeof w !== 'object' || w === null) return fail('config.witness must be an object')
  if (w.kind !== 'none' && w.kind !== 'file' && w.kind !== 'cloud') {
    return fail(`config.witness.kind must be none, file or cloud (got ${JSON.stringify(w.kind)})`)
  }
  if (w.kind === 'file' && typeof w.path !== 'string') return fail('config.witness.path is required for a file witness')
  if (w.kind === 'cloud' && typeof w.url !== 'string') return fail('config.witness.url is required for a cloud witness')
  const csvMode = c.csvMode ?? 's2d'
  if (csvMode !== 's2d' && csvMode !== 'san') return fail(`config.csvMode must be s2d or san`)
  const flavour = c.flavour ?? 'microsoft'
  if (c.epm !== undefined && typeof c.epm !== 'boolean') return fail('config.epm must be true or false')
  if (c.witnessAllowAnonymous !== undefined && typeof c.witnessAllowAnonymous !== 'boolean') return fail('config.witnessAllowAnonymous must be true or false')
  const keepAliveMaxS = c.witnessKeepAliveMaxS
  if (keepAliveMaxS !== undefined && !(typeof keepAliveMaxS === 'number' && Number.isInteger(keepAliveMaxS) && keepAliveMaxS >= 0 && keepAliveMaxS <= 0xffffffff)) {
    return fail('config.witnessKeepAliveMaxS must be a whole number of seconds from 0 to 4294967295')
  }
  if (flavour !== 'microsoft' && flavour !== 'third-party') return fail('config.flavour must be microsoft or third-party')
  const ioBandwidth = c.ioBandwidthBytesPerSecond ?? 0
  if (typeof ioBandwidth !== 'number' || !Number.isFinite(ioBandwidth) || ioBandwidth < 0) {
    return fail('config.ioBandwidthBytesPerSecond must be a number >= 0')
  }
  const witnessProfile = c.witnessProfile ?? 'ws2012r2'
  if (!isWitnessProfileName(witnessProfile)) return fail('config.witnessProfile must be ws2012r2, ws2012 or samba')
  // Configs written before functional levels existed run at the default level.
  const functionalLevel = c.functionalLevel ?? DEFAULT_FUNCTIONAL_LEVEL
  const levelProblem = functionalLevelProblem(functionalLevel)
  if (levelProblem) return fail(`config.functionalLevel: ${levelProblem}`)
  if (c.smb2Signing !== undefined && c.smb2Signing !== 'required' && c.smb2Signing !== 'enabled') return fail('config.smb2Signing must be required or enabled')
  if (c.smbEncrypt !== undefined && typeof c.smbEncrypt !== 'boolean') return fail('config.smbEncrypt must be true or false')
  if (c.clientWitnessAuthLevel !== undefined && c.clientWitnessAuthLevel !== 'integrity' && c.clientWitnessAuthLevel !== 'privacy') {
    return fail('config.clientWitnessAuthLevel must be integrity or privacy')
  }
  const network = c.network as Record<string, unknown> | undefined
  if (network !== undefined && (typeof network !== 'object' || network === null || typeof network.namespace !== 'string' || !NAMESPACE_NAME.test(network.namespace))) {
    return fail(`config.network.namespace must match ${NAMESPACE_NAME}`)
  }
  const array = c.storageArray as Record<string, unknown> | undefined
  if (array !== undefined && (typeof array !== 'object' || array === null || typeof array.socket !== 'string' || !array.socket.startsWith('/') || Buffer.byteLength(array.socket) > UNIX_SOCKET_PATH_BYTES_MAX)) {
    return fail(`config.storageArray.socket must be an absolute path of at most ${UNIX_SOCKET_PATH_BYTES_MAX} bytes`)
  }
  const shares = c.shares ?? []
  if (!Array.isArray(shares)) return fail('config.shares must be an array')
  for (const [i, sh] of shares.entries()) {
    const share = sh as Record<string, unknown>
    if (typeof share?.name !== 'string' || share.name === '' || typeof share.csv !== 'string' || !(c.csvs as string[]).includes(share.csv)) {
      return fail(`config.shares[${i}] must name a share and one of the CSVs`)
    }
    const roleProblem = shareRoleProblem(share, nodes)
    if (roleProblem) return fail(`config.shares[${i}]: ${roleProblem}`)
  }
  const roleNames = new Map<string, string>()
  for (const sh of shares as ShareConfig[]) {
    if (!sh.role) continue
    // One role per name; a second share of the same role must agree on its address.
    const endpoint = `${sh.role.address}:${sh.role.smb2Port} on ${sh.csv}`
    const seen = roleNames.get(sh.role.name.toLowerCase())
    if (seen !== undefined && seen !== endpoint) return fail(`role ${sh.role.name} has two addresses or CSVs (${seen} and ${endpoint})`)
    roleNames.set(sh.role.name.toLowerCase(), endpoint)
  }
  return {
    ok: true,
    config: {
      name: c.name,
      dir: c.dir,
      profile: c.profile,
      nodes,
      csvs: c.csvs as string[],
      witness: { kind: w.kind, path: w.path as string | undefined, url: w.url as string | undefined },
      csvMode,
      flavour,
      ...(c.epm === true ? { epm: true } : {}),
      ...(c.witnessAllowAnonymous === true ? { witnessAllowAnonymous: true } : {}),
      ...(keepAliveMaxS !== undefined ? { witnessKeepAliveMaxS: keepAliveMaxS as number } : {}),
      shares: shares as ShareConfig[],
      witnessProfile,
      ioBandwidthBytesPerSecond: ioBandwidth,
      functionalLevel: functionalLevel as number,
      ...(c.smb2Signing !== undefined ? { smb2Signing: c.smb2Signing as 'required' | 'enabled' } : {}),
      ...(c.smbEncrypt === true ? { smbEncrypt: true } : {}),
      ...(c.clientWitnessAuthLevel !== undefined ? { clientWitnessAuthLevel: c.clientWitnessAuthLevel as 'integrity' | 'privacy' } : {}),
      ...(network !== undefined ? { network: { namespace: network.namespace as string } } : {}),
      ...(array !== undefined ? { storageArray: { socket: array.socket as string } } : {}),
    },
  }
}

/** A one-line problem with a share's kind and role, or null. */
function shareRoleProblem(share: Record<string, unknown>, nodes: readonly NodeConfig[]): string | null {
  const kind = share.kind ?? 'scale-out'
  if (kind !== 'scale-out' && kind !== 'general') return `kind must be scale-out or general (got ${JSON.stringify(share.kind)})`
  if (kind === 'scale-out') return share.role === undefined ? null : 'a scale-out share has no role'
  const role = share.role as Record<string, unknown> | undefined
  if (typeof role !== 'object' || role === null) return 'a general share needs its role (name, address, smb2Port)'
  if (typeof role.name !== 'string' || !ROLE_NAME.test(role.name)) return `role.name must match ${ROLE_NAME} (got ${JSON.stringify(role.name)})`
  if (typeof role.address !== 'string' || !LOOPBACK_V4.test(role.address) || !isLoopback(role.address)) return `role.address must be a loopback IPv4 address (got ${JSON.stringify(role.address)})`
  if (nodes.some((n) => n.clientAddress === role.address || n.clusterAddress === role.address)) return `role.address ${role.address} is a node's address`
  const port = role.smb2Port
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return `role.smb2Port must be a port number (got ${JSON.stringify(port)})`
  return null
}

export function loadConfig(path: string): ConfigResult {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    return { ok: false, error: `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    return { ok: false, error: `malformed config file ${path}: ${(err as Error).message}` }
  }
  const result = validateConfig(raw)
  return result.ok ? result : { ok: false, error: `invalid config file ${path}: ${result.error}` }
}
