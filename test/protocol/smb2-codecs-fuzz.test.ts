// Fuzzing of the SMB2 decoders, which face the network: mutated valid messages (bytes, u16 and
// u32 fields set to edge values, truncation, extension) and random bytes never make a decoder
// throw; each returns a value or a typed error with an NTSTATUS.
import assert from 'node:assert/strict'
import t from 'tap'
import fc from 'fast-check'
import { decodeAppInstanceId, decodeDurableReconnectV1, decodeDurableReconnectV2, decodeDurableRequestV1, decodeDurableRequestV2, decodeLeaseRequest, decodeMaximalAccessRequest } from '../../protocol/smb2/create-contexts.js'
import { decodeCloseRequest, decodeCreateRequest, decodeCreateResponse, encodeCreateRequest } from '../../protocol/smb2/create.js'
import { peekDirectTcpFrame } from '../../protocol/smb2/direct-tcp-frame.js'
import { decodeEmptyBody, encodeEmptyBody } from '../../protocol/smb2/empty-body.js'
import { decodeErrorResponse } from '../../protocol/smb2/error-response.js'
import { decodeHeader, encodeHeader, header, splitCompound } from '../../protocol/smb2/header.js'
import { decodeIoctlRequest, decodeIoctlResponse, encodeIoctlRequest } from '../../protocol/smb2/ioctl.js'
import { decodeLockRequest, encodeLockRequest } from '../../protocol/smb2/lock.js'
import type { Decoded } from '../../protocol/smb2/message-reader.js'
import { decodeNegotiateRequest, decodeNegotiateResponse, encodeNegotiateRequest } from '../../protocol/smb2/negotiate.js'
import { decodeOplockBreak } from '../../protocol/smb2/oplock-break.js'
import { decodeOutputBufferResponse } from '../../protocol/smb2/output-buffer-response.js'
import { decodeQueryDirectoryRequest, encodeQueryDirectoryRequest } from '../../protocol/smb2/query-directory.js'
import { decodeChangeNotifyRequest } from '../../protocol/smb2/change-notify.js'
import { decodeQueryInfoRequest, decodeSetInfoRequest, encodeQueryInfoRequest, encodeSetInfoRequest } from '../../protocol/smb2/query-info.js'
import { decodeFlushRequest, decodeReadRequest, decodeReadResponse, decodeWriteRequest, encodeReadRequest, encodeWriteRequest } from '../../protocol/smb2/read-write.js'
import { decodeSessionSetupRequest, decodeSessionSetupResponse, encodeSessionSetupRequest } from '../../protocol/smb2/session-setup.js'
import { decodeSmb1Negotiate, encodeSmb1Negotiate } from '../../protocol/smb2/smb1-negotiate.js'
import { decodeTreeConnectRequest, encodeTreeConnectRequest } from '../../protocol/smb2/tree-connect.js'

const RUNS = { numRuns: 400 }
const ID = { persistent: '0102030405060708', volatile: '1112131415161718' }

function message(body: Buffer | readonly Buffer[]): Buffer {
  return Buffer.concat([encodeHeader(header({ command: 0 })), ...(Buffer.isBuffer(body) ? [body] : body)])
}

/** Valid messages the mutations start from. */
const seeds: Buffer[] = [
  message(encodeNegotiateRequest({ securityMode: 1, capabilities: 0x7f, clientGuid: '11111111-2222-3333-4444-555555555555', dialects: [0x202, 0x210, 0x300, 0x302, 0x311], negotiateContexts: [{ kind: 'preauth', hashAlgorithms: [1], salt: Buffer.alloc(32, 1) }, { kind: 'encryption', ciphers: [2, 1] }, { kind: 'signing', signingAlgorithms: [2, 1, 0] }, { kind: 'netname', netName: '127.0.1.1' }], clientStartTime: 0n })),
  message(encodeSessionSetupRequest({ flags: 0, securityMode: 1, capabilities: 1, channel: 0, previousSessionId: 0n, securityBuffer: Buffer.alloc(74, 0x60) })),
  message(encodeTreeConnectRequest({ flags: 0, path: '\\\\127.0.1.1\\share-1' })),
  message(encodeCreateRequest({ securityFlags: 0, requestedOplockLevel: 0xff, impersonationLevel: 2, smbCreateFlags: 0n, desiredAccess: 0x120089, fileAttributes: 0, shareAccess: 7, createDisposition: 1, createOptions: 0x20, name: 'a\\b.txt', createContexts: [{ name: Buffer.from('MxAc'), data: Buffer.alloc(0) }, { name: Buffer.from('QFid'), data: Buffer.alloc(0) }, { name: Buffer.from('RqLs'), data: Buffer.alloc(52, 2) }] })),
  message(encodeReadRequest({ padding: 0x50, flags: 0, length: 65536, offset: 0n, fileId: ID, minimumCount: 0, channel: 0, remainingBytes: 0, readChannelInfo: Buffer.alloc(0) })),
  message(encodeWriteRequest({ offset: 4096n, fileId: ID, channel: 0, remainingBytes: 0, writeChannelInfo: Buffer.alloc(0), flags: 0, data: Buffer.alloc(200, 9) })),
  message(encodeLockRequest({ lockSequence: 0, fileId: ID, locks: [{ offset: 0n, length: 10n, flags: 2 }, { offset: 10n, length: 10n, flags: 1 }] })),
  message(encodeIoctlRequest({ ctlCode: 0x140204, fileId: ID, input: Buffer.alloc(36, 3), maxInputResponse: 0, output: Buffer.alloc(0), maxOutputResponse: 24, flags: 1 })),
  message(encodeQueryDirectoryRequest({ fileInformationClass: 0x25, flags: 1, fileIndex: 0, fileId: ID, fileName: '*', outputBufferLength: 65536 })),
  message(encodeQueryInfoRequest({ infoType: 1, fileInfoClass: 0x12, outputBufferLength: 4096, input: Buffer.alloc(0), additionalInformation: 0, flags: 0, fileId: ID })),
  message(encodeSetInfoRequest({ infoType: 1, fileInfoClass: 0x14, buffer: Buffer.alloc(8, 1), additionalInformation: 0, fileId: ID })),
  message(encodeEmptyBody()),
]

const decoders: readonly [string, (m: Buffer) => Decoded<unknown>][] = [
  ['header', decodeHeader],
  ['compound', splitCompound],
  ['SMB1 NEGOTIATE', decodeSmb1Negotiate],
  ['NEGOTIATE', decodeNegotiateRequest],
  ['NEGOTIATE response', decodeNegotiateResponse],
  ['SESSION_SETUP', decodeSessionSetupRequest],
  ['SESSION_SETUP response', decodeSessionSetupResponse],
  ['TREE_CONNECT', decodeTreeConnectRequest],
  ['CREATE', decodeCreateRequest],
  ['CREATE response', decodeCreateResponse],
  ['CLOSE', decodeCloseRequest],
  ['FLUSH', decodeFlushRequest],
  ['READ', decodeReadRequest],
  ['READ response', decodeReadResponse],
  ['WRITE', decodeWriteRequest],
  ['LOCK', decodeLockRequest],
  ['IOCTL', decodeIoctlRequest],
  ['IOCTL response', decodeIoctlResponse],
  ['QUERY_DIRECTORY', decodeQueryDirectoryRequest],
  ['CHANGE_NOTIFY', decodeChangeNotifyRequest],
  ['QUERY_INFO', decodeQueryInfoRequest],
  ['SET_INFO', decodeSetInfoRequest],
  ['OPLOCK_BREAK', decodeOplockBreak],
  ['output-buffer response', (m) => decodeOutputBufferResponse(m, 'x')],
  ['ERROR response', decodeErrorResponse],
  ['empty body', (m) => decodeEmptyBody(m, 'ECHO')],
  ['MxAc', decodeMaximalAccessRequest],
  ['DH2Q', decodeDurableRequestV2],
  ['DH2C', decodeDurableReconnectV2],
  ['DHnQ', decodeDurableRequestV1],
  ['DHnC', decodeDurableReconnectV1],
  ['AppInstanceId', decodeAppInstanceId],
  ['RqLs', decodeLeaseRequest],
]

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 2, 7, 8, 0x40, 0x78, 0x7fff, 0xffff) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 8, 0x40, 0x78, 0x1000, 0x7fffffff, 0xffffffff) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant('extend' as const), at: fc.nat({ max: 64 }), value: fc.nat({ max: 255 }) }),
)

function mutate(seed: Buffer, mutations: readonly { kind: string; at: number; value: number }[]): Buffer {
  let m = Buffer.from(seed)
  for (const { kind, at, value } of mutations) {
    const i = m.length === 0 ? 0 : at % m.length
    if (kind === 'byte' && m.length > 0) m[i] = value
    else if (kind === 'u16' && i + 2 <= m.length) m.writeUInt16LE(value, i)
    else if (kind === 'u32' && i + 4 <= m.length) m.writeUInt32LE(value, i)
    else if (kind === 'truncate') m = m.subarray(0, i)
    else if (kind === 'extend') m = Buffer.concat([m, Buffer.alloc(at, value)])
  }
  return m
}

function checkNeverThrows(name: string, decode: (m: Buffer) => Decoded<unknown>, input: Buffer): void {
  let result: Decoded<unknown>
  try {
    result = decode(input)
  } catch (err) {
    assert.fail(`${name} threw ${String(err)} on ${input.toString('hex')}`)
  }
  if (!result.ok) assert.ok(Number.isInteger(result.error.status) && result.error.reason.length > 0, `${name}: a typed error`)
}

t.test('mutated valid messages never make a decoder throw', async (t) => {
  fc.assert(
    fc.property(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 6 }), (seed, mutations) => {
      const input = mutate(seed, mutations)
      for (const [name, decode] of decoders) checkNeverThrows(name, decode, input)
    }),
    RUNS,
  )
  t.pass('no decoder threw')
})

t.test('random bytes never make a decoder throw', async (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (raw) => {
      const input = Buffer.from(raw)
      for (const [name, decode] of decoders) checkNeverThrows(name, decode, input)
      // Random bytes behind a valid header, so the bodies are reached.
      const withHeader = Buffer.concat([encodeHeader(header({ command: 0 })), input])
      for (const [name, decode] of decoders) checkNeverThrows(name, decode, withHeader)
      peekDirectTcpFrame(input, 8 * 1024 * 1024)
    }),
    RUNS,
  )
  t.pass('no decoder threw')
})

t.test('SMB1 NEGOTIATE mutations never throw', async (t) => {
  const seed = encodeSmb1Negotiate(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???'])
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => checkNeverThrows('SMB1 NEGOTIATE', decodeSmb1Negotiate, mutate(seed, mutations))), RUNS)
  t.pass('no throw')
})
