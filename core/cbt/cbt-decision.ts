// Which change-block-tracking method a Hyper-V backup of a VM on our SMB share can use.
// The rule is Veeam's compatibility table (seed 000), extended with the storage flavour:
//
//   | Hosts OS          | VM config level | Cluster functional level | CBT               |
//   |-------------------|-----------------|--------------------------|-------------------|
//   | 1 All 2012 R2     | lower than 8    | lower than 9             | vendor filter     |
//   | 2 Mixed           | up to 8 (<= 8)  | lower than 9             | none              |
//   | 3 All 2016+       | lower than 8    | 9 or higher              | none              |
//   | 4 All 2016+       | 8 or higher     | 9 or higher              | Microsoft RCT     |
//
// The vendor filter driver runs on the storage node and installs only on a Microsoft file
// server, so on third-party SMB storage row 1 gives no CBT. RCT runs on the Hyper-V hosts
// and keeps its files next to the VHDX, so it works on either flavour.
//
// The decision is pure and total over valid contexts: anything outside the table gives
// `none` with a reason naming the condition that fails, because backing up without CBT
// (reading whole disks) is always correct, only slower. Malformed user input is reported by
// validateCbtContext; the other functions assert it was called, since passing them an
// invalid context is a programming error.
import assert from 'node:assert/strict'

export type HostOs = '2012r2' | '2016' | '2019' | '2022'
export const HOST_OSES: readonly HostOs[] = Object.freeze(['2012r2', '2016', '2019', '2022'] as const)
export type CbtMethod = 'rct' | 'filter' | 'none'
export type StorageFlavour = 'microsoft' | 'third-party'
export type HostMix = 'all-2012r2' | 'mixed' | 'all-2016+'

const STORAGE_FLAVOURS: readonly StorageFlavour[] = Object.freeze(['microsoft', 'third-party'] as const)

/** RCT needs VM configuration version 8.0 (Windows Server 2016) or later. */
export const RCT_MIN_VM_CONFIG_VERSION = 8
/** Cluster functional level 9 is Windows Server 2016: every node runs 2016 or later. */
export const RCT_MIN_CLUSTER_LEVEL = 9

export interface CbtContext {
  /** The OS of every host of the cluster (non-empty). */
  readonly hostOses: readonly HostOs[]
  /** e.g. 5.0, 8.0, 9.0 */
  readonly vmConfigVersion: number
  /** 8 (2012 R2), 9 (2016), 10 (2019), 11 (2022) */
  readonly clusterFunctionalLevel: number
  readonly flavour: StorageFlavour
}

export interface CbtDecision {
  readonly method: CbtMethod
  /** One sentence a user reads. */
  readonly reason: string
  readonly hostMix: HostMix
  /** The row of the table above that matched; null outside the table. */
  readonly tableRow: 1 | 2 | 3 | 4 | null
}

export function hostMixOf(hostOses: readonly HostOs[]): HostMix {
  assert.ok(hostOses.length > 0, 'a cluster has at least one host')
  const old = hostOses.filter((os) => os === '2012r2').length
  if (old === hostOses.length) return 'all-2012r2'
  if (old === 0) return 'all-2016+'
  return 'mixed'
}

/**
 * A one-line error for a context a user could have typed wrong (unknown OS, NaN levels, an
 * empty host list, an unknown flavour), or null when it is valid. Values are checked at run
 * time, because contexts come from command lines and JSON, not only from typed code.
 */
export function validateCbtContext(ctx: CbtContext): string | null {
  if (typeof ctx !== 'object' || ctx === null) return 'no CBT context given'
  const hosts: unknown = ctx.hostOses
  if (!Array.isArray(hosts) || hosts.length === 0) return 'no hosts given: a cluster has at least one host OS'
  for (const os of hosts) {
    if (!HOST_OSES.includes(os as HostOs)) {
      return `unknown host OS ${JSON.stringify(os)} (known: ${HOST_OSES.join(', ')})`
    }
  }
  const vm: unknown = ctx.vmConfigVersion
  if (typeof vm !== 'number' || !Number.isFinite(vm) || vm <= 0) {
    return `VM config version must be a positive number such as 5.0 or 9.0, got ${String(vm)}`
  }
  const level: unknown = ctx.clusterFunctionalLevel
  if (typeof level !== 'number' || !Number.isInteger(level) || level <= 0) {
    return `cluster functional level must be a positive integer such as 8 or 10, got ${String(level)}`
  }
  if (!STORAGE_FLAVOURS.includes(ctx.flavour)) {
    return `unknown storage flavour ${JSON.stringify(ctx.flavour)} (known: ${STORAGE_FLAVOURS.join(', ')})`
  }
  return null
}

export function chooseCbtMethod(ctx: CbtContext): CbtDecision {
  assertValid(ctx)
  const hostMix = hostMixOf(ctx.hostOses)
  const vm = ctx.vmConfigVersion
  const level = ctx.clusterFunctionalLevel
  const vmText = `VM config ${formatVersion(vm)}`
  const levelText = `cluster level ${level}`
  const decide = (method: CbtMethod, tableRow: CbtDecision['tableRow'], reason: string): CbtDecision =>
    Object.freeze({ method, reason, hostMix, tableRow })

  switch (hostMix) {
    case 'all-2012r2': {
      if (vm < RCT_MIN_VM_CONFIG_VERSION && level < RCT_MIN_CLUSTER_LEVEL) {
        const facts = `all hosts 2012 R2, ${vmText} < 8, ${levelText} < 9`
        if (ctx.flavour === 'microsoft') return decide('filter', 1, `${facts}: vendor filter driver on the Microsoft file server`)
        return decide('none', 1, `${facts}, but the vendor filter driver runs on the storage node and cannot be installed on third-party SMB storage: no CBT`)
      }
      const fails: string[] = []
      if (vm >= RCT_MIN_VM_CONFIG_VERSION) fails.push(`${vmText} >= 8 cannot run on a 2012 R2 host`)
      if (level >= RCT_MIN_CLUSTER_LEVEL) fails.push(`${levelText} >= 9 needs every host on 2016+`)
      return decide('none', null, `all hosts 2012 R2 but ${fails.join(' and ')}: outside the compatibility table, no CBT`)
    }
    case 'mixed': {
      const facts = 'hosts mixed 2012 R2 and 2016+'
      if (vm <= RCT_MIN_VM_CONFIG_VERSION && level < RCT_MIN_CLUSTER_LEVEL) {
        return decide('none', 2, `${facts}, ${vmText} <= 8, ${levelText} < 9: no CBT in a mixed cluster (the filter driver needs all hosts on 2012 R2, RCT all on 2016+)`)
      }
      const fails: string[] = []
      if (vm > RCT_MIN_VM_CONFIG_VERSION) fails.push(`${vmText} > 8 is above what a mixed cluster runs`)
      if (level >= RCT_MIN_CLUSTER_LEVEL) fails.push(`${levelText} >= 9 needs every host on 2016+`)
      return decide('none', null, `${facts} but ${fails.join(' and ')}: outside the compatibility table, no CBT`)
    }
    case 'all-2016+': {
      if (level < RCT_MIN_CLUSTER_LEVEL) {
        // The usual case is a rolling upgrade whose last step, raising the level, is not done.
        return decide('none', null, `all hosts 2016+ but ${levelText} < 9 (raise the cluster functional level to finish the rolling upgrade): outside the compatibility table, no CBT`)
      }
      if (vm < RCT_MIN_VM_CONFIG_VERSION) {
        return decide('none', 3, `all hosts 2016+, ${vmText} < 8, ${levelText} >= 9: no CBT until the VM configuration version is upgraded to 8 or higher`)
      }
      return decide('rct', 4, `all hosts 2016+, ${vmText} >= 8, ${levelText} >= 9: Microsoft RCT`)
    }
  }
}

/**
 * A method forced by the user: allowed, or a clear one-line error saying why not. 'none' is
 * always allowed (a backup that reads whole disks is always correct). 'rct' needs row 4.
 * 'filter' needs a Microsoft file server and row 1's hosts, VM and cluster level: the driver
 * exists only for 2012 R2, and a 2012 R2 host runs neither VM config 8 nor cluster level 9.
 */
export function checkForcedMethod(
  method: CbtMethod,
  ctx: CbtContext,
): { ok: true; decision: CbtDecision } | { ok: false; error: string } {
  assertValid(ctx)
  const table = chooseCbtMethod(ctx)
  const hostMix = table.hostMix
  const vm = ctx.vmConfigVersion
  const level = ctx.clusterFunctionalLevel
  const here = `here: hosts ${ctx.hostOses.join(',')} (${hostMix}), VM config ${formatVersion(vm)}, cluster level ${level}`
  const allowed = (reason: string): { ok: true; decision: CbtDecision } => ({
    ok: true,
    decision: Object.freeze({ method, reason, hostMix, tableRow: table.tableRow }),
  })
  switch (method) {
    case 'none':
      return allowed(`forced none: no CBT, every backup reads whole disks (the table would choose ${table.method})`)
    case 'rct': {
      const fits = hostMix === 'all-2016+' && vm >= RCT_MIN_VM_CONFIG_VERSION && level >= RCT_MIN_CLUSTER_LEVEL
      if (!fits) return { ok: false, error: `rct needs every host on 2016+, VM config 8+ and cluster level 9+; ${here}` }
      return allowed(`forced rct: all hosts 2016+, VM config ${formatVersion(vm)} >= 8, cluster level ${level} >= 9`)
    }
    case 'filter': {
      const fits = hostMix === 'all-2012r2' && vm < RCT_MIN_VM_CONFIG_VERSION && level < RCT_MIN_CLUSTER_LEVEL
      if (ctx.flavour !== 'microsoft' || !fits) {
        const storage = ctx.flavour === 'microsoft' ? 'a Microsoft file server' : 'third-party SMB storage'
        return {
          ok: false,
          error: `filter needs a Microsoft file server (the driver runs on the storage node) and every host on 2012 R2 (the driver exists only there) with VM config below 8 and cluster level below 9; ${here}, on ${storage}`,
        }
      }
      return allowed(`forced filter: all hosts 2012 R2, VM config ${formatVersion(vm)} < 8, cluster level ${level} < 9, Microsoft file server`)
    }
  }
}

export interface SeedRow {
  readonly row: 1 | 2 | 3 | 4
  readonly hosts: string
  readonly vmLevel: string
  readonly clusterLevel: string
  /** The method on a Microsoft file server (on third-party SMB row 1 gives none). */
  readonly expected: CbtMethod
  readonly context: Omit<CbtContext, 'flavour'>
}

/** The four table rows as contexts, one representative each, for the matrix command. */
export const SEED_000_ROWS: ReadonlyArray<SeedRow> = Object.freeze(
  (
    [
      {
        row: 1,
        hosts: 'All 2012 R2',
        vmLevel: 'lower than 8',
        clusterLevel: 'lower than 9',
        expected: 'filter',
        context: { hostOses: ['2012r2', '2012r2'], vmConfigVersion: 5.0, clusterFunctionalLevel: 8 },
      },
      {
        row: 2,
        hosts: 'Mixed (some 2012 R2, some 2016+)',
        vmLevel: 'up to 8 (<= 8)',
        clusterLevel: 'lower than 9',
        expected: 'none',
        context: { hostOses: ['2012r2', '2016'], vmConfigVersion: 5.0, clusterFunctionalLevel: 8 },
      },
      {
        row: 3,
        hosts: 'All 2016 or higher',
        vmLevel: 'lower than 8',
        clusterLevel: '9 or higher',
        expected: 'none',
        context: { hostOses: ['2016', '2019'], vmConfigVersion: 5.0, clusterFunctionalLevel: 9 },
      },
      {
        row: 4,
        hosts: 'All 2016 or higher',
        vmLevel: '8 or higher',
        clusterLevel: '9 or higher',
        expected: 'rct',
        context: { hostOses: ['2016', '2022'], vmConfigVersion: 9.0, clusterFunctionalLevel: 10 },
      },
    ] satisfies SeedRow[]
  ).map((r): SeedRow => Object.freeze({ ...r, context: Object.freeze({ ...r.context, hostOses: Object.freeze([...r.context.hostOses]) }) })),
)

/** VM configuration versions read as "5.0", "8.0", "9.1": always one decimal at least. */
function formatVersion(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v)
}

function assertValid(ctx: CbtContext): void {
  const problem = validateCbtContext(ctx)
  assert.equal(problem, null, `invalid CBT context (call validateCbtContext first): ${problem}`)
}
