// Mutations of one protected DCE/RPC request (header, stub, auth pad, sec_trailer, 16-byte
// NTLMSSP signature), shared by the in-process and the on-the-wire authenticated fuzz tests.
// Every one of them changes the PDU so that a server must refuse it (or, for a lying frag_length,
// wait for bytes that never come).
import type { Prng } from '../../core/sim/prng.js'

export const SIGNATURE_BYTES = 16
export const TRAILER_BYTES = 8

export type FrameMutation = (frame: Buffer, rng: Prng) => Buffer

function setLengths(frame: Buffer, authLength?: number): Buffer {
  frame.writeUInt16LE(frame.length, 8)
  if (authLength !== undefined) frame.writeUInt16LE(authLength, 10)
  return frame
}

export const FRAME_MUTATIONS: Record<string, FrameMutation> = {
  'signature bit': (f, rng) => {
    f[f.length - 1 - rng.int(0, SIGNATURE_BYTES - 1)] ^= 1 << rng.int(0, 7)
    return f
  },
  'checksum byte': (f, rng) => {
    f[f.length - SIGNATURE_BYTES + 4 + rng.int(0, 7)] ^= rng.int(1, 255)
    return f
  },
  'sequence number': (f, rng) => {
    f.writeUInt32LE((f.readUInt32LE(f.length - 4) + rng.int(1, 1000)) >>> 0, f.length - 4)
    return f
  },
  'stub bit': (f, rng) => {
    const stubEnd = f.length - SIGNATURE_BYTES - TRAILER_BYTES
    if (stubEnd > 24) f[rng.int(24, stubEnd - 1)] ^= 1 << rng.int(0, 7)
    else f[f.length - 1] ^= 1
    return f
  },
  'any bit': (f, rng) => {
    f[rng.int(0, f.length - 1)] ^= 1 << rng.int(0, 7)
    return f
  },
  'header byte': (f, rng) => {
    f[rng.int(0, 23)] ^= rng.int(1, 255)
    return f
  },
  'truncated verifier': (f, rng) => {
    const cut = rng.int(1, SIGNATURE_BYTES)
    return setLengths(Buffer.from(f.subarray(0, f.length - cut)), SIGNATURE_BYTES - cut)
  },
  'truncated verifier, auth_length unchanged': (f, rng) => setLengths(Buffer.from(f.subarray(0, f.length - rng.int(1, SIGNATURE_BYTES)))),
  'auth_length lie': (f, rng) => {
    let lie = rng.int(0, 0xffff)
    if (lie === SIGNATURE_BYTES) lie = 0
    f.writeUInt16LE(lie, 10)
    return f
  },
  'auth_length small lie': (f, rng) => {
    f.writeUInt16LE(SIGNATURE_BYTES + rng.int(-8, 8) || 1, 10)
    if (f.readUInt16LE(10) === SIGNATURE_BYTES) f.writeUInt16LE(SIGNATURE_BYTES + 4, 10)
    return f
  },
  'auth_pad_length lie': (f, rng) => {
    f[f.length - SIGNATURE_BYTES - TRAILER_BYTES + 2] ^= rng.int(1, 255)
    return f
  },
  'auth level change': (f, rng) => {
    const at = f.length - SIGNATURE_BYTES - TRAILER_BYTES + 1
    const was = f[at]
    let level = rng.int(0, 7)
    if (level === was) level = was === 5 ? 6 : 5
    f[at] = level
    return f
  },
  'auth type change': (f, rng) => {
    const at = f.length - SIGNATURE_BYTES - TRAILER_BYTES
    f[at] = [0, 9, 10, 16, 68, 255].filter((x) => x !== f[at])[rng.int(0, 4)]
    return f
  },
  'auth context id change': (f, rng) => {
    const at = f.length - SIGNATURE_BYTES - TRAILER_BYTES + 4
    f.writeUInt32LE((f.readUInt32LE(at) + rng.int(1, 0xffff)) >>> 0, at)
    return f
  },
  'verifier removed': (f) => {
    const out = Buffer.from(f.subarray(0, f.length - SIGNATURE_BYTES - TRAILER_BYTES))
    return setLengths(out, 0)
  },
  'extra verifier bytes': (f, rng) => {
    const extra = rng.int(1, 64)
    return setLengths(Buffer.concat([f, Buffer.alloc(extra, rng.int(0, 255))]), SIGNATURE_BYTES + extra)
  },
}
