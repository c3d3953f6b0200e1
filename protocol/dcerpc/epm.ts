// A minimal endpoint mapper (DCE 1.1 RPC appendix L, MS-RPCE 2.2.1.2): only `ept_map`
// (opnum 3) of interface e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0, answering with one tower
// that names the witness interface over NDR20, ncacn_ip_tcp, on this node's witness port and
// address. rpcclient always asks it on TCP 135 before it connects, whatever port its binding
// string names. Towers are byte strings (NOALIGN inside); their floors are little-endian
// except the port and the IPv4 address, which are in network order.
import { uuidFromBytes as guidFromBytes, uuidToBytes as guidToBytes } from './ndr-reader.js'

export const EPM_INTERFACE = { uuid: 'e1af8308-5d1f-11c9-91a4-08002b14a0fa', versionMajor: 3, versionMinor: 0 }
export const EPM_OPNUM_MAP = 3
const NDR20_UUID = '8a885d04-1ceb-11c9-9fe8-08002b104860'
/** ept_map's status when nothing matches (EPT_S_NOT_REGISTERED). */
export const EPT_S_NOT_REGISTERED = 0x16c9a0d6
/** Bound on towers a client may ask for and on the tower it sends. */
const TOWER_BYTES_MAX = 1024

export interface EpmTarget {
  readonly interfaceUuid: string
  readonly versionMajor: number
  readonly versionMinor: number
  readonly ipv4: string
  readonly port: number
}

export type EptMapRequest = { ok: true; interfaceUuid: string | null; maxTowers: number; entryHandle: Buffer } | { ok: false; reason: string }

/** Decodes ept_map's in-parameters: [in, ptr] object, [in, ptr] map_tower, [in, out] entry_handle, [in] max_towers. */
export function decodeEptMapRequest(stub: Buffer): EptMapRequest {
  let at = 0
  const need = (n: number) => at + n <= stub.length
  if (!need(4)) return { ok: false, reason: 'short ept_map request' }
  const objectRef = stub.readUInt32LE(at)
  at += 4
  if (objectRef !== 0) {
    if (!need(16)) return { ok: false, reason: 'short object uuid' }
    at += 16
  }
  if (!need(4)) return { ok: false, reason: 'short map_tower pointer' }
  const towerRef = stub.readUInt32LE(at)
  at += 4
  let interfaceUuid: string | null = null
  if (towerRef !== 0) {
    if (!need(8)) return { ok: false, reason: 'short tower header' }
    const towerLength = stub.readUInt32LE(at)
    const maxCount = stub.readUInt32LE(at + 4)
    at += 8
    if (towerLength !== maxCount || towerLength > TOWER_BYTES_MAX || !need(towerLength)) return { ok: false, reason: 'tower length does not fit' }
    interfaceUuid = interfaceOfTower(stub.subarray(at, at + towerLength))
    at += towerLength
    at = (at + 3) & ~3
  }
  if (!need(24)) return { ok: false, reason: 'short entry handle or max_towers' }
  const entryHandle = Buffer.from(stub.subarray(at, at + 20))
  at += 20
  const maxTowers = stub.readUInt32LE(at)
  return { ok: true, interfaceUuid, maxTowers, entryHandle }
}

/** The first floor's interface uuid of a tower, or null when the tower is not one we can read. */
function interfaceOfTower(tower: Buffer): string | null {
  if (tower.length < 2 + 2 + 19) return null
  const floors = tower.readUInt16LE(0)
  if (floors < 1) return null
  const lhsLength = tower.readUInt16LE(2)
  if (lhsLength !== 19 || tower[4] !== 0x0d) return null
  return guidFromBytes(tower.subarray(5, 21))
}

/** The 5-floor tower for ncacn_ip_tcp to `target`. */
export function towerFor(target: EpmTarget): Buffer {
  const floor = (lhs: Buffer, rhs: Buffer) => {
    const head = Buffer.alloc(2)
    head.writeUInt16LE(lhs.length)
    const mid = Buffer.alloc(2)
    mid.writeUInt16LE(rhs.length)
    return Buffer.concat([head, lhs, mid, rhs])
  }
  const u16le = (n: number) => {
    const b = Buffer.alloc(2)
    b.writeUInt16LE(n)
    return b
  }
  const u16be = (n: number) => {
    const b = Buffer.alloc(2)
    b.writeUInt16BE(n)
    return b
  }
  const uuidFloor = (uuid: string, major: number, minor: number) => floor(Buffer.concat([Buffer.from([0x0d]), guidToBytes(uuid), u16le(major)]), u16le(minor))
  const ip = Buffer.from(target.ipv4.split('.').map((x) => Number(x) & 0xff))
  return Buffer.concat([
    u16le(5),
    uuidFloor(target.interfaceUuid, target.versionMajor, target.versionMinor),
    uuidFloor(NDR20_UUID, 2, 0),
    floor(Buffer.from([0x0b]), u16le(0)),
    floor(Buffer.from([0x07]), u16be(target.port)),
    floor(Buffer.from([0x09]), ip),
  ])
}

/**
 * ept_map's out-parameters: entry_handle, num_towers, towers (a conformant varying array of
 * full pointers to twr_t), status. One tower when the interface asked for is ours.
 */
export function encodeEptMapResponse(request: Extract<EptMapRequest, { ok: true }>, targets: readonly EpmTarget[]): Buffer {
  const match = targets.find((t) => request.interfaceUuid === null || t.interfaceUuid === request.interfaceUuid)
  const towers = match && request.maxTowers > 0 ? [towerFor(match)] : []
  const parts: Buffer[] = []
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n >>> 0)
    return b
  }
  // The entry handle goes back zeroed: we have one answer, there is no enumeration to resume.
  parts.push(Buffer.alloc(20))
  parts.push(u32(towers.length))
  parts.push(u32(Math.max(request.maxTowers, towers.length)), u32(0), u32(towers.length))
  towers.forEach((_, i) => parts.push(u32(0x00020000 + 4 * (i + 1))))
  for (const tower of towers) {
    parts.push(u32(tower.length), u32(tower.length), tower)
    const pad = (4 - (tower.length % 4)) % 4
    if (pad) parts.push(Buffer.alloc(pad))
  }
  parts.push(u32(towers.length > 0 ? 0 : EPT_S_NOT_REGISTERED))
  return Buffer.concat(parts)
}
