// Requests encoded by a third party (impacket 0.10.0's smb3structs, produced once with
// /usr/bin/python3 and pasted here as hex) decode to the values impacket was given, and our
// encoders produce the same bytes where the layouts agree.
import t from 'tap'
import { decodeCreateRequest, encodeCreateRequest } from '../../protocol/smb2/create.js'
import { decodeHeader, SMB2_COMMAND } from '../../protocol/smb2/header.js'
import type { Decoded } from '../../protocol/smb2/message-reader.js'
import { decodeNegotiateRequest } from '../../protocol/smb2/negotiate.js'
import { decodeQueryDirectoryRequest } from '../../protocol/smb2/query-directory.js'
import { decodeReadRequest, decodeWriteRequest } from '../../protocol/smb2/read-write.js'
import { decodeTreeConnectRequest, encodeTreeConnectRequest } from '../../protocol/smb2/tree-connect.js'

const VECTORS = {
  negotiate:
    'fe534d42400000000000000000001f0000000000000000000100000000000000000000000000000000000000000000000000000000000000000000000000000024000300010000007f000000000000000000000000000000000000000000000000000000020210020003',
  treeConnect:
    'fe534d42400000000000000003001f0000000000000000000400000000000000000000000000000022110000000000000000000000000000000000000000000009000000480026005c005c003100320037002e0030002e0031002e0031005c00730068006100720065002d003100',
  create:
    'fe534d42400000000000000005001f000000000000000000050000000000000000000000070000002211000000000000000000000000000000000000000000003900000002000000000000000000000000000000000000009f011200800000000300000005000000440000007800120000000000000000006400690072005c0066002e00740078007400',
  read: 'fe534d42400000000000000008001f0000000000000000000600000000000000000000000700000022110000000000000000000000000000000000000000000031000000000001000010000000000000000102030405060708090a0b0c0d0e0f0000000000000000000000000000000000',
  write:
    'fe534d42400000000000000009001f0000000000000000000700000000000000000000000700000022110000000000000000000000000000000000000000000031007000050000000a00000000000000000102030405060708090a0b0c0d0e0f0000000000000000000000000000000068656c6c6f',
  queryDirectory:
    'fe534d4240000000000000000e001f000000000000000000080000000000000000000000070000002211000000000000000000000000000000000000000000002100250100000000000102030405060708090a0b0c0d0e0f60000200ffff00002a00',
}

const FILE_ID = { persistent: '0001020304050607', volatile: '08090a0b0c0d0e0f' }

function value<T>(t: { fail(m: string): void }, d: Decoded<T>): T {
  if (!d.ok) {
    t.fail(d.error.reason)
    throw new Error(d.error.reason)
  }
  return d.value
}

t.test('headers', async (t) => {
  const h = value(t, decodeHeader(Buffer.from(VECTORS.treeConnect, 'hex')))
  t.match(h, { command: SMB2_COMMAND.TREE_CONNECT, credits: 31, messageId: 4n, treeId: 0, sessionId: 0x1122n, nextCommand: 0 })
})

t.test('NEGOTIATE', async (t) => {
  const n = value(t, decodeNegotiateRequest(Buffer.from(VECTORS.negotiate, 'hex')))
  t.same(n.dialects, [0x202, 0x210, 0x300])
  t.equal(n.securityMode, 1)
  t.equal(n.capabilities, 0x7f)
  t.same(n.negotiateContexts, [])
})

t.test('TREE_CONNECT, and ours encodes the same body', async (t) => {
  const bytes = Buffer.from(VECTORS.treeConnect, 'hex')
  const tc = value(t, decodeTreeConnectRequest(bytes))
  t.same(tc, { flags: 0, path: '\\\\127.0.1.1\\share-1' })
  t.same(encodeTreeConnectRequest(tc), bytes.subarray(64))
})

t.test('CREATE, and ours encodes the same body', async (t) => {
  const bytes = Buffer.from(VECTORS.create, 'hex')
  const c = value(t, decodeCreateRequest(bytes))
  t.match(c, { impersonationLevel: 2, desiredAccess: 0x12019f, fileAttributes: 0x80, shareAccess: 3, createDisposition: 5, createOptions: 0x44, name: 'dir\\f.txt' })
  t.same(c.createContexts, [])
  t.same(encodeCreateRequest(c), bytes.subarray(64))
})

t.test('READ, WRITE and QUERY_DIRECTORY', async (t) => {
  t.match(value(t, decodeReadRequest(Buffer.from(VECTORS.read, 'hex'))), { length: 65536, offset: 4096n, fileId: FILE_ID, minimumCount: 0 })
  const w = value(t, decodeWriteRequest(Buffer.from(VECTORS.write, 'hex')))
  t.match(w, { offset: 10n, fileId: FILE_ID })
  t.equal(w.data.toString(), 'hello')
  t.match(value(t, decodeQueryDirectoryRequest(Buffer.from(VECTORS.queryDirectory, 'hex'))), { fileInformationClass: 0x25, flags: 1, fileId: FILE_ID, fileName: '*', outputBufferLength: 65535 })
})
