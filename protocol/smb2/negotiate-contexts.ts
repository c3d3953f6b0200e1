// NEGOTIATE contexts of SMB 3.1.1 (MS-SMB2 2.2.3.1, 2.2.4.1): a list after the NEGOTIATE
// request or response body, each an 8-byte header (ContextType, DataLength, Reserved) and its
// data, each starting 8-byte aligned from the start of the SMB2 header. The kinds this server
// acts on are decoded; the others (compression, transport, RDMA) are kept as raw data.
import { type MessageReader, align8 } from './message-reader.js'

export const NEGOTIATE_CONTEXT_TYPE = {
  PREAUTH_INTEGRITY_CAPABILITIES: 0x0001,
  ENCRYPTION_CAPABILITIES: 0x0002,
  COMPRESSION_CAPABILITIES: 0x0003,
  NETNAME_NEGOTIATE_CONTEXT_ID: 0x0005,
  TRANSPORT_CAPABILITIES: 0x0006,
  RDMA_TRANSFORM_CAPABILITIES: 0x0007,
  SIGNING_CAPABILITIES: 0x0008,
} as const

/** HashAlgorithms of the preauth integrity context (2.2.3.1.1). */
export const HASH_ALGORITHM = { SHA512: 0x0001 } as const

/** Ciphers of the encryption context (2.2.3.1.2) and SigningAlgorithms of the signing context (2.2.3.1.7). */
export { CIPHER, SIGNING_ALGORITHM } from './constants.js'

export type NegotiateContext =
  | { readonly kind: 'preauth'; readonly hashAlgorithms: readonly number[]; readonly salt: Buffer }
  | { readonly kind: 'encryption'; readonly ciphers: readonly number[] }
  | { readonly kind: 'signing'; readonly signingAlgorithms: readonly number[] }
  | { readonly kind: 'netname'; readonly netName: string }
  | { readonly kind: 'other'; readonly type: number; readonly data: Buffer }

const CONTEXT_HEADER_BYTES = 8

/** Reads count contexts starting at offset (from the header start). */
export function readNegotiateContexts(r: MessageReader, offset: number, count: number, minOffset: number): NegotiateContext[] {
  const contexts: NegotiateContext[] = []
  if (count === 0) return contexts
  if (offset < minOffset) r.fail(`NegotiateContextOffset ${offset} inside the fixed part`)
  let at = offset
  for (let i = 0; i < count; i++) {
    if (i > 0) at = align8(at)
    const type = r.u16(at)
    const dataLength = r.u16(at + 2)
    const data = r.bytes(at + CONTEXT_HEADER_BYTES, dataLength)
    contexts.push(decodeContext(r, type, data))
    at += CONTEXT_HEADER_BYTES + dataLength
  }
  return contexts
}

function decodeContext(r: MessageReader, type: number, data: Buffer): NegotiateContext {
  const counted = (what: string, countAt: number, listAt: number): number[] => {
    if (data.length < listAt) r.fail(`${what} context of ${data.length} bytes is too short`)
    const count = data.readUInt16LE(countAt)
    if (listAt + 2 * count > data.length) r.fail(`${what} context lists ${count} ids in ${data.length} bytes`)
    const ids: number[] = []
    for (let i = 0; i < count; i++) ids.push(data.readUInt16LE(listAt + 2 * i))
    return ids
  }
  switch (type) {
    case NEGOTIATE_CONTEXT_TYPE.PREAUTH_INTEGRITY_CAPABILITIES: {
      const hashAlgorithms = counted('preauth integrity', 0, 4)
      const saltLength = data.readUInt16LE(2)
      const saltAt = 4 + 2 * hashAlgorithms.length
      if (saltAt + saltLength > data.length) r.fail(`preauth integrity salt of ${saltLength} bytes runs past its context`)
      return { kind: 'preauth', hashAlgorithms, salt: data.subarray(saltAt, saltAt + saltLength) }
    }
    case NEGOTIATE_CONTEXT_TYPE.ENCRYPTION_CAPABILITIES:
      return { kind: 'encryption', ciphers: counted('encryption', 0, 2) }
    case NEGOTIATE_CONTEXT_TYPE.SIGNING_CAPABILITIES:
      return { kind: 'signing', signingAlgorithms: counted('signing', 0, 2) }
    case NEGOTIATE_CONTEXT_TYPE.NETNAME_NEGOTIATE_CONTEXT_ID:
      return { kind: 'netname', netName: r.utf16(data, 'netname context') }
    default:
      return { kind: 'other', type, data }
  }
}

export function negotiateContextType(c: NegotiateContext): number {
  switch (c.kind) {
    case 'preauth':
      return NEGOTIATE_CONTEXT_TYPE.PREAUTH_INTEGRITY_CAPABILITIES
    case 'encryption':
      return NEGOTIATE_CONTEXT_TYPE.ENCRYPTION_CAPABILITIES
    case 'signing':
      return NEGOTIATE_CONTEXT_TYPE.SIGNING_CAPABILITIES
    case 'netname':
      return NEGOTIATE_CONTEXT_TYPE.NETNAME_NEGOTIATE_CONTEXT_ID
    case 'other':
      return c.type
  }
}

function contextData(c: NegotiateContext): Buffer {
  const ids = (list: readonly number[], prefix: Buffer): Buffer => {
    const out = Buffer.alloc(prefix.length + 2 * list.length)
    prefix.copy(out, 0)
    list.forEach((id, i) => out.writeUInt16LE(id, prefix.length + 2 * i))
    return out
  }
  const count = (n: number, extra = 0): Buffer => {
    const out = Buffer.alloc(2 + extra)
    out.writeUInt16LE(n, 0)
    return out
  }
  switch (c.kind) {
    case 'preauth': {
      const prefix = count(c.hashAlgorithms.length, 2)
      prefix.writeUInt16LE(c.salt.length, 2)
      return Buffer.concat([ids(c.hashAlgorithms, prefix), c.salt])
    }
    case 'encryption':
      return ids(c.ciphers, count(c.ciphers.length))
    case 'signing':
      return ids(c.signingAlgorithms, count(c.signingAlgorithms.length))
    case 'netname':
      return Buffer.from(c.netName, 'utf16le')
    case 'other':
      return c.data
  }
}

/**
 * The encoded list for a message whose contexts start at startOffset from the header (a
 * multiple of 8): each context padded so that the next starts 8-byte aligned; no padding after
 * the last.
 */
export function encodeNegotiateContexts(contexts: readonly NegotiateContext[], startOffset: number): Buffer {
  if (startOffset % 8 !== 0) throw new RangeError(`negotiate contexts must start 8-byte aligned, not at ${startOffset}`)
  const parts: Buffer[] = []
  let at = startOffset
  contexts.forEach((c, i) => {
    if (i > 0 && at % 8 !== 0) {
      parts.push(Buffer.alloc(align8(at) - at))
      at = align8(at)
    }
    const data = contextData(c)
    if (data.length > 0xffff) throw new RangeError(`negotiate context of ${data.length} bytes`)
    const head = Buffer.alloc(CONTEXT_HEADER_BYTES)
    head.writeUInt16LE(negotiateContextType(c), 0)
    head.writeUInt16LE(data.length, 2)
    parts.push(head, data)
    at += CONTEXT_HEADER_BYTES + data.length
  })
  return Buffer.concat(parts)
}
