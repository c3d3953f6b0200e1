// The SMB2 packet header (MS-SMB2 2.2.1), sync and async forms, the command codes and header
// flags, and the split of a compound (2.2.1, 3.2.4.1.4, 3.3.5.2.7) into its messages.
import { type Decoded, MessageReader, SMB2_HEADER_BYTES, align8, decodeRaw } from './message-reader.js'

export { SMB2_HEADER_BYTES } from './message-reader.js'

/** ProtocolId of an SMB2 message: 0xFE 'S' 'M' 'B'. */
export const SMB2_PROTOCOL_ID = Buffer.from([0xfe, 0x53, 0x4d, 0x42])
/** ProtocolId of an SMB2 TRANSFORM_HEADER (encrypted message, 2.2.41): 0xFD 'S' 'M' 'B'. */
export const SMB2_TRANSFORM_PROTOCOL_ID = Buffer.from([0xfd, 0x53, 0x4d, 0x42])
/** ProtocolId of an SMB2 COMPRESSION_TRANSFORM_HEADER (2.2.42): 0xFC 'S' 'M' 'B'. */
export const SMB2_COMPRESSION_PROTOCOL_ID = Buffer.from([0xfc, 0x53, 0x4d, 0x42])
/** ProtocolId of an SMB1 message (MS-CIFS 2.2.3.1): 0xFF 'S' 'M' 'B'. */
export const SMB1_PROTOCOL_ID = Buffer.from([0xff, 0x53, 0x4d, 0x42])

/** SMB2 command codes (2.2.1.2). */
export const SMB2_COMMAND = {
  NEGOTIATE: 0x0000,
  SESSION_SETUP: 0x0001,
  LOGOFF: 0x0002,
  TREE_CONNECT: 0x0003,
  TREE_DISCONNECT: 0x0004,
  CREATE: 0x0005,
  CLOSE: 0x0006,
  FLUSH: 0x0007,
  READ: 0x0008,
  WRITE: 0x0009,
  LOCK: 0x000a,
  IOCTL: 0x000b,
  CANCEL: 0x000c,
  ECHO: 0x000d,
  QUERY_DIRECTORY: 0x000e,
  CHANGE_NOTIFY: 0x000f,
  QUERY_INFO: 0x0010,
  SET_INFO: 0x0011,
  OPLOCK_BREAK: 0x0012,
} as const

export type Smb2CommandName = keyof typeof SMB2_COMMAND

const COMMAND_NAMES = new Map<number, Smb2CommandName>(Object.entries(SMB2_COMMAND).map(([name, code]) => [code, name as Smb2CommandName]))

/** "CREATE" for 5; "0x0042" for a code that is no command. */
export function smb2CommandName(code: number): string {
  return COMMAND_NAMES.get(code) ?? `0x${code.toString(16).padStart(4, '0')}`
}

/** SMB2 header Flags (2.2.1.2). */
export const SMB2_FLAGS = {
  SERVER_TO_REDIR: 0x00000001,
  ASYNC_COMMAND: 0x00000002,
  RELATED_OPERATIONS: 0x00000004,
  SIGNED: 0x00000008,
  PRIORITY_MASK: 0x00000070,
  DFS_OPERATIONS: 0x10000000,
  REPLAY_OPERATION: 0x20000000,
} as const

/** The MessageId of an unsolicited message (an oplock break) and of a CANCEL's own slot: all ones. */
export const SMB2_MESSAGE_ID_NONE = 0xffffffffffffffffn

/**
 * One header. A sync header carries ProcessId (Reserved) and TreeId at bytes 32..39, an async
 * one (Flags has ASYNC_COMMAND) the AsyncId there; the fields of the other form are 0.
 */
export interface Smb2Header {
  readonly creditCharge: number
  /** Responses: the NTSTATUS. Requests at 3.x: ChannelSequence in the low 16 bits, Reserved above. */
  readonly status: number
  readonly command: number
  /** CreditRequest in a request, CreditResponse in a response. */
  readonly credits: number
  readonly flags: number
  /** Offset of the next message of a compound from this header; 0 for the last. */
  readonly nextCommand: number
  readonly messageId: bigint
  readonly processId: number
  readonly treeId: number
  readonly asyncId: bigint
  readonly sessionId: bigint
  /** 16 bytes; zero when the message is not signed. */
  readonly signature: Buffer
}

export const ZERO_SIGNATURE: Buffer = Buffer.alloc(16)

/** Offsets of header fields, for code that patches a header in place (signing, compounds). */
export const HEADER_OFFSET = {
  STATUS: 8,
  COMMAND: 12,
  CREDITS: 14,
  FLAGS: 16,
  NEXT_COMMAND: 20,
  MESSAGE_ID: 24,
  TREE_ID: 36,
  ASYNC_ID: 32,
  SESSION_ID: 40,
  SIGNATURE: 48,
} as const

export function isAsync(header: Pick<Smb2Header, 'flags'>): boolean {
  return (header.flags & SMB2_FLAGS.ASYNC_COMMAND) !== 0
}

/** The header at the start of msg: ProtocolId and StructureSize 64 are checked. */
export function decodeHeader(msg: Buffer): Decoded<Smb2Header> {
  return decodeRaw(msg, (r) => readHeader(r))
}

function readHeader(r: MessageReader): Smb2Header {
  if (r.length < SMB2_HEADER_BYTES) r.fail(`a header needs ${SMB2_HEADER_BYTES} bytes, ${r.length} present`)
  if (!r.bytes(0, 4).equals(SMB2_PROTOCOL_ID)) r.fail('not an SMB2 ProtocolId')
  const structureSize = r.u16(4)
  if (structureSize !== SMB2_HEADER_BYTES) r.fail(`header StructureSize ${structureSize}, expected 64`)
  const flags = r.u32(16)
  const async = (flags & SMB2_FLAGS.ASYNC_COMMAND) !== 0
  return {
    creditCharge: r.u16(6),
    status: r.u32(8),
    command: r.u16(12),
    credits: r.u16(14),
    flags,
    nextCommand: r.u32(20),
    messageId: r.u64(24),
    processId: async ? 0 : r.u32(32),
    treeId: async ? 0 : r.u32(36),
    asyncId: async ? r.u64(32) : 0n,
    sessionId: r.u64(40),
    signature: r.bytes(48, 16),
  }
}

/** The 64 header bytes. */
export function encodeHeader(h: Smb2Header): Buffer {
  const out = Buffer.alloc(SMB2_HEADER_BYTES)
  SMB2_PROTOCOL_ID.copy(out, 0)
  out.writeUInt16LE(SMB2_HEADER_BYTES, 4)
  out.writeUInt16LE(h.creditCharge, 6)
  out.writeUInt32LE(h.status >>> 0, 8)
  out.writeUInt16LE(h.command, 12)
  out.writeUInt16LE(h.credits, 14)
  out.writeUInt32LE(h.flags >>> 0, 16)
  out.writeUInt32LE(h.nextCommand, 20)
  out.writeBigUInt64LE(h.messageId, 24)
  if (isAsync(h)) out.writeBigUInt64LE(h.asyncId, 32)
  else {
    out.writeUInt32LE(h.processId, 32)
    out.writeUInt32LE(h.treeId, 36)
  }
  out.writeBigUInt64LE(h.sessionId, 40)
  h.signature.copy(out, 48, 0, 16)
  return out
}

/** A header with everything but what is given at zero. */
export function header(fields: Partial<Smb2Header> & Pick<Smb2Header, 'command'>): Smb2Header {
  return {
    creditCharge: 0,
    status: 0,
    credits: 0,
    flags: 0,
    nextCommand: 0,
    messageId: 0n,
    processId: 0,
    treeId: 0,
    asyncId: 0n,
    sessionId: 0n,
    signature: ZERO_SIGNATURE,
    ...fields,
  }
}

/** What a frame of the direct TCP transport holds, by its first four bytes. */
export type FrameKind = 'smb2' | 'transform' | 'compressed' | 'smb1' | 'unknown'

export function frameKind(frame: Buffer): FrameKind {
  if (frame.length < 4) return 'unknown'
  const id = frame.subarray(0, 4)
  if (id.equals(SMB2_PROTOCOL_ID)) return 'smb2'
  if (id.equals(SMB2_TRANSFORM_PROTOCOL_ID)) return 'transform'
  if (id.equals(SMB2_COMPRESSION_PROTOCOL_ID)) return 'compressed'
  if (id.equals(SMB1_PROTOCOL_ID)) return 'smb1'
  return 'unknown'
}

/** A bound on the messages of one compound: far beyond what clients chain (smbclient: 3 to 4). */
export const COMPOUND_MESSAGES_MAX = 128

/**
 * The messages of a compound frame, each a view from its header to the next one (padding
 * included, as it is signed) or to the frame's end. A NextCommand that is not a multiple of 8,
 * is shorter than a header, or points past the frame is malformed (3.3.5.2.7).
 */
export function splitCompound(frame: Buffer): Decoded<Buffer[]> {
  return decodeRaw(frame, (r) => {
    const messages: Buffer[] = []
    let at = 0
    for (;;) {
      if (messages.length >= COMPOUND_MESSAGES_MAX) r.fail(`more than ${COMPOUND_MESSAGES_MAX} messages in a compound`)
      if (frame.length - at < SMB2_HEADER_BYTES) r.fail(`message ${messages.length} of a compound is shorter than a header`)
      if (!frame.subarray(at, at + 4).equals(SMB2_PROTOCOL_ID)) r.fail(`message ${messages.length} of a compound is not SMB2`)
      const next = frame.readUInt32LE(at + 20)
      if (next === 0) {
        messages.push(frame.subarray(at))
        return messages
      }
      if (next % 8 !== 0 || next < SMB2_HEADER_BYTES || next > frame.length - at) r.fail(`bad NextCommand ${next} in message ${messages.length} of a compound`)
      messages.push(frame.subarray(at, at + next))
      at += next
    }
  })
}

/**
 * One frame of messages, each already encoded as header + body: every message but the last
 * is padded to a multiple of 8 and its NextCommand set (2.2.1.2). The messages are changed in
 * place (their NextCommand); a caller that signs does so after this, over the padded message.
 */
export function chainCompound(messages: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = []
  messages.forEach((m, i) => {
    const last = i === messages.length - 1
    const padded = last ? m : padTo8(m)
    padded.writeUInt32LE(last ? 0 : padded.length, HEADER_OFFSET.NEXT_COMMAND)
    out.push(padded)
  })
  return out
}

function padTo8(m: Buffer): Buffer {
  const length = align8(m.length)
  return length === m.length ? m : Buffer.concat([m, Buffer.alloc(length - m.length)], length)
}
