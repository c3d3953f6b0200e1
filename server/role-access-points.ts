// The client access points of the general-use file server roles on one node: a role is online
// on the node that owns its CSV (its owner), and there only, so this node opens an SMB 2/3
// listener on the role's own address while it serves the role's CSV and closes it (with its
// connections) as soon as it does not. A client connecting to the role's address therefore
// always reaches the current owner, and is refused while the role moves, as a Windows client
// is while the role's IP address moves to another node.
import type { Logger } from 'pino'

export interface RoleAccessPoint {
  /** The role's network name. */
  readonly name: string
  readonly address: string
  readonly smb2Port: number
  /** The CSV whose owner is the role's owner. */
  readonly csv: string
}

export interface RoleAccessPointsOptions {
  /** Opens a listener of the node's SMB 2/3 front on address:port. */
  readonly listen: (address: string, port: number) => Promise<{ close(): void }>
  /** The CSVs this node serves now (quorate, with a valid lease, as owner). */
  readonly servingCsvs: () => readonly string[]
  readonly log: Logger
}

/** Bound on the roles one node tracks (each costs one listener while online here). */
export const ROLES_MAX = 64

export class RoleAccessPoints {
  private readonly roles = new Map<string, RoleAccessPoint>()
  private readonly online = new Map<string, { close(): void }>()
  /** Roles whose listener failed to open (the address still held by a frozen former owner): logged once until it opens. */
  private readonly failing = new Set<string>()
  private reconciling = false
  private again = false
  private closed = false

  constructor(private readonly opts: RoleAccessPointsOptions) {}

  /** Adds a role (or a share of a role already known: then nothing changes). */
  add(role: RoleAccessPoint): { ok: true } | { ok: false; error: string } {
    const key = role.name.toLowerCase()
    const known = this.roles.get(key)
    if (known) {
      if (known.address !== role.address || known.smb2Port !== role.smb2Port || known.csv !== role.csv) {
        return { ok: false, error: `role ${role.name} exists with address ${known.address}:${known.smb2Port} on ${known.csv}` }
      }
      return { ok: true }
    }
    if (this.roles.size >= ROLES_MAX) return { ok: false, error: `at most ${ROLES_MAX} general-use roles` }
    this.roles.set(key, role)
    this.sync()
    return { ok: true }
  }

  /** Names of the roles online on this node. */
  onlineHere(): string[] {
    return [...this.online.keys()].map((k) => this.roles.get(k)?.name ?? k).sort()
  }

  /** Opens and closes listeners so that exactly the roles whose CSV this node serves are online here. */
  sync(): void {
    if (this.closed) return
    if (this.reconciling) {
      this.again = true
      return
    }
    const serving = new Set(this.opts.servingCsvs())
    const wanted = (key: string) => {
      const role = this.roles.get(key)
      return role !== undefined && serving.has(role.csv)
    }
    // Cheap when nothing changes: sync runs on every step of the quorum shell.
    const toClose = [...this.online.keys()].filter((k) => !wanted(k))
    const toOpen = [...this.roles.keys()].filter((k) => wanted(k) && !this.online.has(k))
    for (const key of toClose) {
      this.online.get(key)?.close()
      this.online.delete(key)
      const role = this.roles.get(key)
      this.opts.log.info({ component: 'role', event: 'role.offline', role: role?.name, address: role?.address, csv: role?.csv })
    }
    if (toOpen.length === 0) return
    this.reconciling = true
    void this.open(toOpen).finally(() => {
      this.reconciling = false
      if (this.again) {
        this.again = false
        this.sync()
      }
    })
  }

  private async open(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const role = this.roles.get(key)
      if (!role || this.closed) continue
      try {
        const listener = await this.opts.listen(role.address, role.smb2Port)
        // The CSV may have left this node while the listener was opening.
        if (this.closed || !this.opts.servingCsvs().includes(role.csv)) {
          listener.close()
          this.again = true
          continue
        }
        this.online.set(key, listener)
        this.failing.delete(key)
        this.opts.log.info({ component: 'role', event: 'role.online', role: role.name, address: role.address, port: role.smb2Port, csv: role.csv })
      } catch (err) {
        // Retried on the next sync (every quorum step), once the address is free again.
        if (!this.failing.has(key)) {
          this.failing.add(key)
          this.opts.log.warn({ component: 'role', event: 'role.listen.failed', role: role.name, address: role.address, port: role.smb2Port, error: String((err as Error).message ?? err) })
        }
      }
    }
  }

  close(): void {
    this.closed = true
    for (const listener of this.online.values()) listener.close()
    this.online.clear()
  }
}
