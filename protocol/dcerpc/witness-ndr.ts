// The NDR20 stubs of the MS-SWN witness interface (MS-SWN section 6, Samba's librpc/idl/witness.idl):
// the in-parameters of each call and the out-parameters plus the DWORD (WERROR) return value of
// each response, for opnums 0 to 4. It does for DCE/RPC what the gRPC front (server/swn/
// witness-grpc-front.ts) does for gRPC: requests become the witness core's WitnessCall values, and
// the core's replies become the bytes Windows and Samba put on the wire. The decoders of responses
// and encoders of requests serve test clients and capture checks.
//
// Wire facts this codec relies on, all confirmed against the Windows captures in Samba's
// source4/torture/ndr/witness.c:
// - Top-level [unique] pointer parameters carry a referent id with the pointee right after it;
//   a pointer embedded in a structure has its pointee after the structure. Non-NULL referent ids
//   run 0x00020000, 0x00020004, ...
// - [out] ** parameters are a reference pointer (not on the wire) to a unique pointer. On an error
//   the server leaves it NULL, so the stub is a zero referent id and the return value.
// - A context handle is 20 bytes; the NULL handle, which a failed Register returns, is all zeros.
//   The witness core's registration key is the handle's GUID, and '' stands for the NULL handle.
// - WITNESS_INTERFACE_INFO is 552 bytes; its IPV4 and IPV6 fields hold the address bytes in network
//   order, whatever their IDL types (ULONG, USHORT[8]) suggest.
// - RESP_ASYNC_NOTIFY's MessageBuffer is opaque NDR bytes whose contents are the raw little-endian
//   structures of server/swn/message-buffer.ts.
//
// Decoders face the network: they return typed results and never throw (see ndr-reader.ts for how
// lengths are bounded). Requests may carry bytes after the last in-parameter, because Windows
// clients append the MS-RPCE 2.2.2.13 verification trailer to the stub; as in Samba and Windows,
// they are ignored, and counted in trailingBytes. A response must end exactly with its return value.
// Encoders serve our own code and throw a RangeError for a value the wire cannot carry.

import { MESSAGE_TYPE, decodeIpAddrInfoList, decodeResourceChanges, type DecodeResult } from '../swn/message-buffer.js'
import { allZero, bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes, IPV4_BYTES, IPV6_BYTES } from '../ip-address.js'
import { INTERFACE_FLAGS, type NotifyPayload, type WitnessCall, type WitnessInterface, type WitnessReply } from '../swn/witness-calls.js'
import { decodeNdrStub, NIL_UUID, ndrFailureReason, NdrReader, NdrWriter, type NdrContextHandle } from './ndr-reader.js'

export const WITNESS_INTERFACE = { uuid: 'ccd8c074-d0e5-4a40-92b4-d074faa6ba28', version: { major: 1, minor: 1 } } as const

/**
 * The opnums of MS-SWN as Samba, WPTS and the 2018 spec define them. The current online spec adds
 * WitnessrUnRegisterEx as opnum 5; it is not here, so a request for it is an op-range fault.
 */
export const WITNESS_OPNUM = { GetInterfaceList: 0, Register: 1, UnRegister: 2, AsyncNotify: 3, RegisterEx: 4 } as const

export type WitnessOpnumName = keyof typeof WITNESS_OPNUM

/** The size of one WITNESS_INTERFACE_INFO on the wire. */
export const WITNESS_INTERFACE_INFO_BYTES = 552
/** WCHAR InterfaceGroupName[260]: the name and its NUL must fit in these code units. */
export const INTERFACE_GROUP_NAME_UNITS = 260

/** A WITNESS_INTERFACE_INFO: the core's WitnessInterface without nodeId, which is not on the wire. */
export type WitnessInterfaceInfo = Omit<WitnessInterface, 'nodeId'>

export type WitnessRequestDecodeResult =
  | {
      readonly ok: true
      readonly call: WitnessCall
      /** The context handle as sent (UnRegister, AsyncNotify), attributes included; null for the other calls. */
      readonly contextHandle: NdrContextHandle | null
      /** Bytes after the last in-parameter, such as a verification trailer; ignored. */
      readonly trailingBytes: number
    }
  | { readonly ok: false; readonly fault: 'op-range' | 'ndr'; readonly reason: string }

export interface GetInterfaceListResponse {
  readonly result: number
  /** null when the list pointer is NULL, as on every error. */
  readonly interfaces: readonly WitnessInterfaceInfo[] | null
}

export interface RegisterResponse {
  readonly result: number
  /** The registration key: the handle's GUID, or '' for the NULL handle. */
  readonly key: string
  readonly contextHandle: NdrContextHandle
}

export interface UnRegisterResponse {
  readonly result: number
}

export interface AsyncNotifyResponse {
  readonly result: number
  /**
   * null when the response pointer is NULL, as on every error. Otherwise buffer holds the
   * MessageBuffer bytes exactly, and resourceChanges or ipAddresses the decoded view of them.
   */
  readonly notify: NotifyPayload | null
  /** Why the MessageBuffer contents break MS-SWN's rules (the NDR itself was fine), or null. */
  readonly messageError: string | null
}

/** What encodeAsyncNotifyResponse needs of a notification; NotifyPayload has it. */
export type AsyncNotifyMessage = Pick<NotifyPayload, 'messageType' | 'numberOfMessages' | 'buffer'>

// WITNESS_INTERFACE_INFO is the name (520 bytes), Version, State and 2 pad bytes, IPV4, IPV6, Flags.
const KNOWN_MESSAGE_TYPES: ReadonlySet<number> = new Set(Object.values(MESSAGE_TYPE))
const NULL_CONTEXT_HANDLE: NdrContextHandle = { attributes: 0, uuid: NIL_UUID }

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** Decodes the in-parameters of a witness request into the call the witness core takes. Never throws. */
export function decodeWitnessRequest(opnum: number, stub: Uint8Array): WitnessRequestDecodeResult {
  if (!Number.isInteger(opnum) || opnum < 0 || opnum > WITNESS_OPNUM.RegisterEx) {
    return { ok: false, fault: 'op-range', reason: `opnum ${String(opnum)} is not a witness operation` }
  }
  if (!(stub instanceof Uint8Array)) return { ok: false, fault: 'ndr', reason: 'the stub is not a byte array' }
  try {
    const reader = new NdrReader(stub)
    let call: WitnessCall
    let contextHandle: NdrContextHandle | null = null
    switch (opnum) {
      case WITNESS_OPNUM.GetInterfaceList:
        call = { method: 'GetInterfaceList' }
        break
      case WITNESS_OPNUM.Register: {
        const version = reader.u32('Version')
        const netName = optionalString(reader, 'NetName')
        const ipAddress = optionalString(reader, 'IpAddress')
        const clientComputerName = optionalString(reader, 'ClientComputerName')
        call = { method: 'Register', version, netName, ipAddress, clientComputerName }
        break
      }
      case WITNESS_OPNUM.UnRegister:
      case WITNESS_OPNUM.AsyncNotify: {
        contextHandle = reader.contextHandle('pContext')
        const key = keyOfHandle(contextHandle)
        call = opnum === WITNESS_OPNUM.UnRegister ? { method: 'UnRegister', key } : { method: 'AsyncNotify', key }
        break
      }
      default: {
        const version = reader.u32('Version')
        const netName = optionalString(reader, 'NetName')
        const shareName = optionalString(reader, 'ShareName')
        const ipAddress = optionalString(reader, 'IpAddress')
        const clientComputerName = optionalString(reader, 'ClientComputerName')
        const flags = reader.u32('Flags')
        const keepAliveTimeoutS = reader.u32('KeepAliveTimeout')
        call = { method: 'RegisterEx', version, netName, shareName, ipAddress, clientComputerName, flags, keepAliveTimeoutS }
        break
      }
    }
    return { ok: true, call, contextHandle, trailingBytes: reader.remaining }
  } catch (err) {
    return { ok: false, fault: 'ndr', reason: ndrFailureReason(err) }
  }
}

/** Encodes a call's in-parameters as the stub a client sends for opnum, which must be the call's own. */
export function encodeWitnessRequest(opnum: number, call: WitnessCall): Buffer {
  const expected = (WITNESS_OPNUM as Record<string, number>)[call.method]
  if (expected === undefined) throw new RangeError(`${call.method} has no opnum in this interface`)
  if (expected !== opnum) throw new RangeError(`${call.method} is opnum ${expected}, not ${String(opnum)}`)
  const writer = new NdrWriter()
  switch (call.method) {
    case 'GetInterfaceList':
      break
    case 'Register':
      writer.u32(call.version, 'Version')
      writeOptionalString(writer, call.netName, 'NetName')
      writeOptionalString(writer, call.ipAddress, 'IpAddress')
      writeOptionalString(writer, call.clientComputerName, 'ClientComputerName')
      break
    case 'RegisterEx':
      writer.u32(call.version, 'Version')
      writeOptionalString(writer, call.netName, 'NetName')
      writeOptionalString(writer, call.shareName, 'ShareName')
      writeOptionalString(writer, call.ipAddress, 'IpAddress')
      writeOptionalString(writer, call.clientComputerName, 'ClientComputerName')
      writer.u32(call.flags, 'Flags')
      writer.u32(call.keepAliveTimeoutS, 'KeepAliveTimeout')
      break
    default:
      writer.contextHandle(handleOfKey(call.key), 'pContext')
      break
  }
  return writer.finish()
}

/** A NULL unique pointer is the core's undefined; a non-NULL one, even to an empty string, is a string. */
function optionalString(reader: NdrReader, what: string): string | undefined {
  return reader.uniquePointer(what) ? reader.conformantVaryingString(what) : undefined
}

function writeOptionalString(writer: NdrWriter, text: string | undefined, what: string): void {
  writer.pointer(text !== undefined, what)
  if (text !== undefined) writer.conformantVaryingString(text, what)
}

// ---------------------------------------------------------------------------------------------
// Responses: encoders
// ---------------------------------------------------------------------------------------------

/**
 * WitnessrGetInterfaceList's [out] PWITNESS_INTERFACE_LIST* and return value. On an error the list
 * pointer is NULL, so an error carries no interfaces. An empty list on success has a NULL array pointer.
 */
export function encodeGetInterfaceListResponse(result: number, interfaces: readonly WitnessInterfaceInfo[]): Buffer {
  const writer = new NdrWriter()
  if (result !== 0) {
    if (interfaces.length > 0) throw new RangeError(`an error result (0x${result.toString(16)}) carries no interface list`)
    writer.pointer(false, 'InterfaceList')
  } else {
    writer.pointer(true, 'InterfaceList')
    writer.u32(interfaces.length, 'NumberOfInterfaces')
    writer.pointer(interfaces.length > 0, 'InterfaceInfo')
    if (interfaces.length > 0) {
      writer.u32(interfaces.length, 'InterfaceInfo max_count')
      interfaces.forEach((info, index) => writeInterfaceInfo(writer, info, `InterfaceInfo[${index}]`))
    }
  }
  writer.u32(result, 'return value')
  return writer.finish()
}

/** WitnessrRegister's context handle and return value. contextHandle is the core's key ('' for the NULL handle) or a handle. */
export function encodeRegisterResponse(result: number, contextHandle: string | NdrContextHandle): Buffer {
  const writer = new NdrWriter()
  writer.contextHandle(typeof contextHandle === 'string' ? handleOfKey(contextHandle) : contextHandle, 'ppContext')
  writer.u32(result, 'return value')
  return writer.finish()
}

/** WitnessrRegisterEx's out-parameters are those of WitnessrRegister. */
export function encodeRegisterExResponse(result: number, contextHandle: string | NdrContextHandle): Buffer {
  return encodeRegisterResponse(result, contextHandle)
}

/** WitnessrUnRegister has only its return value. */
export function encodeUnRegisterResponse(result: number): Buffer {
  const writer = new NdrWriter()
  writer.u32(result, 'return value')
  return writer.finish()
}

/**
 * WitnessrAsyncNotify's [out] PRESP_ASYNC_NOTIFY* and return value. null gives the NULL response
 * pointer of an error. Length is the buffer's size; an empty buffer is sent as a NULL MessageBuffer.
 */
export function encodeAsyncNotifyResponse(result: number, notify: AsyncNotifyMessage | null): Buffer {
  const writer = new NdrWriter()
  writer.pointer(notify !== null, 'pResp')
  if (notify !== null) {
    // The receiver cannot interpret any other type (Samba refuses it as a bad switch value).
    if (!KNOWN_MESSAGE_TYPES.has(notify.messageType)) throw new RangeError(`MessageType ${String(notify.messageType)} is not a MESSAGE_TYPE value`)
    if (!(notify.buffer instanceof Uint8Array)) throw new RangeError('MessageBuffer is not a byte array')
    const lengthBytes = notify.buffer.byteLength
    writer.u32(notify.messageType, 'MessageType')
    writer.u32(lengthBytes, 'Length')
    writer.u32(notify.numberOfMessages, 'NumberOfMessages')
    writer.pointer(lengthBytes > 0, 'MessageBuffer')
    if (lengthBytes > 0) {
      writer.u32(lengthBytes, 'MessageBuffer max_count')
      writer.bytes(notify.buffer)
    }
  }
  writer.u32(result, 'return value')
  return writer.finish()
}

/** The response stub of a witness core reply. */
export function encodeWitnessReply(reply: WitnessReply): Buffer {
  switch (reply.method) {
    case 'GetInterfaceList':
      return encodeGetInterfaceListResponse(reply.result, reply.interfaces)
    case 'Register':
    case 'RegisterEx':
      return encodeRegisterResponse(reply.result, reply.key)
    case 'UnRegister':
      return encodeUnRegisterResponse(reply.result)
    case 'AsyncNotify':
      return encodeAsyncNotifyResponse(reply.result, reply.notify)
    case 'UnRegisterEx':
      throw new RangeError('UnRegisterEx (opnum 5) is not part of this interface')
  }
}

function writeInterfaceInfo(writer: NdrWriter, info: WitnessInterfaceInfo, what: string): void {
  const ipv4Bytes = info.ipv4 === '' ? Buffer.alloc(IPV4_BYTES) : ipv4ToBytes(info.ipv4)
  if (ipv4Bytes === null) throw new RangeError(`${what}: ipv4 ${JSON.stringify(info.ipv4)} is not a dotted quad`)
  const ipv6Bytes = info.ipv6 === '' ? Buffer.alloc(IPV6_BYTES) : ipv6ToBytes(info.ipv6)
  if (ipv6Bytes === null) throw new RangeError(`${what}: ipv6 ${JSON.stringify(info.ipv6)} is not an IPv6 address`)
  const start = writer.offset
  writer.align(4)
  writer.fixedString(info.interfaceGroupName, INTERFACE_GROUP_NAME_UNITS, `${what} InterfaceGroupName`)
  writer.u32(info.version, `${what} Version`)
  writer.u16(info.state, `${what} State`)
  // IPV4 is a ULONG, so two bytes of padding follow State; the address bytes go in as they are.
  writer.align(4)
  writer.bytes(ipv4Bytes)
  writer.bytes(ipv6Bytes)
  writer.u32(info.flags, `${what} Flags`)
  if (writer.offset - start !== WITNESS_INTERFACE_INFO_BYTES) throw new RangeError(`${what} took ${writer.offset - start} bytes, not ${WITNESS_INTERFACE_INFO_BYTES}`)
}

// ---------------------------------------------------------------------------------------------
// Responses: decoders
// ---------------------------------------------------------------------------------------------

export function decodeGetInterfaceListResponse(stub: Uint8Array): DecodeResult<GetInterfaceListResponse> {
  return decodeNdrStub(stub, 'GetInterfaceList response', (reader) => {
    let interfaces: WitnessInterfaceInfo[] | null = null
    if (reader.uniquePointer('InterfaceList')) {
      const count = reader.u32('NumberOfInterfaces')
      interfaces = []
      if (reader.uniquePointer('InterfaceInfo')) {
        const maxCount = reader.conformance(WITNESS_INTERFACE_INFO_BYTES, 'InterfaceInfo')
        // size_is(NumberOfInterfaces): the conformance must agree with the field it names.
        if (maxCount !== count) reader.fail(`InterfaceInfo max_count ${maxCount} disagrees with NumberOfInterfaces ${count}`)
        for (let index = 0; index < maxCount; index++) interfaces.push(readInterfaceInfo(reader, `InterfaceInfo[${index}]`))
      } else if (count !== 0) {
        reader.fail(`InterfaceInfo is NULL but NumberOfInterfaces is ${count}`)
      }
    }
    const result = reader.u32('return value')
    return { result, interfaces }
  })
}

export function decodeRegisterResponse(stub: Uint8Array): DecodeResult<RegisterResponse> {
  return decodeNdrStub(stub, 'Register response', (reader) => {
    const contextHandle = reader.contextHandle('ppContext')
    const result = reader.u32('return value')
    return { result, key: keyOfHandle(contextHandle), contextHandle }
  })
}

export function decodeRegisterExResponse(stub: Uint8Array): DecodeResult<RegisterResponse> {
  return decodeRegisterResponse(stub)
}

export function decodeUnRegisterResponse(stub: Uint8Array): DecodeResult<UnRegisterResponse> {
  return decodeNdrStub(stub, 'UnRegister response', (reader) => ({ result: reader.u32('return value') }))
}

export function decodeAsyncNotifyResponse(stub: Uint8Array): DecodeResult<AsyncNotifyResponse> {
  const decoded = decodeNdrStub(stub, 'AsyncNotify response', (reader) => {
    let message: { messageType: number; numberOfMessages: number; buffer: Buffer } | null = null
    if (reader.uniquePointer('pResp')) {
      const messageType = reader.u32('MessageType')
      if (!KNOWN_MESSAGE_TYPES.has(messageType)) reader.fail(`MessageType 0x${messageType.toString(16)} is not a MESSAGE_TYPE value`)
      const lengthBytes = reader.u32('Length')
      const numberOfMessages = reader.u32('NumberOfMessages')
      let buffer: Buffer = Buffer.alloc(0)
      if (reader.uniquePointer('MessageBuffer')) {
        const maxCount = reader.conformance(1, 'MessageBuffer')
        if (maxCount !== lengthBytes) reader.fail(`MessageBuffer max_count ${maxCount} disagrees with Length ${lengthBytes}`)
        buffer = reader.bytesCopy(lengthBytes, 'MessageBuffer')
      } else if (lengthBytes !== 0) {
        reader.fail(`MessageBuffer is NULL but Length is ${lengthBytes}`)
      }
      message = { messageType, numberOfMessages, buffer }
    }
    const result = reader.u32('return value')
    return { result, message }
  })
  if (!decoded.ok) return decoded
  const { result, message } = decoded.value
  if (message === null) return { ok: true, value: { result, notify: null, messageError: null } }
  const content = decodeMessageBuffer(message.messageType, message.numberOfMessages, message.buffer)
  const notify: NotifyPayload = {
    ...message,
    resourceChanges: content.ok ? content.value.resourceChanges : [],
    ipAddresses: content.ok ? content.value.ipAddresses : [],
  }
  return { ok: true, value: { result, notify, messageError: content.ok ? null : content.error } }
}

function decodeMessageBuffer(
  messageType: number,
  numberOfMessages: number,
  buffer: Buffer,
): DecodeResult<Pick<NotifyPayload, 'resourceChanges' | 'ipAddresses'>> {
  if (messageType === MESSAGE_TYPE.RESOURCE_CHANGE) {
    const records = decodeResourceChanges(buffer, numberOfMessages)
    return records.ok ? { ok: true, value: { resourceChanges: records.value, ipAddresses: [] } } : records
  }
  // Move and IP change notifications carry one IPADDR_INFO_LIST.
  if (numberOfMessages !== 1) return { ok: false, error: `NumberOfMessages is ${numberOfMessages}, but an address list notification carries 1` }
  const list = decodeIpAddrInfoList(buffer)
  return list.ok ? { ok: true, value: { resourceChanges: [], ipAddresses: list.value.entries } } : list
}

function readInterfaceInfo(reader: NdrReader, what: string): WitnessInterfaceInfo {
  reader.align(4, what)
  const interfaceGroupName = reader.fixedString(INTERFACE_GROUP_NAME_UNITS, `${what} InterfaceGroupName`)
  const version = reader.u32(`${what} Version`)
  const state = reader.u16(`${what} State`)
  reader.align(4, `${what} padding after State`)
  const ipv4Bytes = reader.bytesCopy(IPV4_BYTES, `${what} IPV4`)
  const ipv6Bytes = reader.bytesCopy(IPV6_BYTES, `${what} IPV6`)
  const flags = reader.u32(`${what} Flags`)
  // An address is shown when its flag marks it valid, and also when it is unflagged but non-zero,
  // so nothing the peer sent is dropped and the entry re-encodes exactly.
  const ipv4 = (flags & INTERFACE_FLAGS.IPV4) !== 0 || !allZero(ipv4Bytes) ? bytesToIpv4(ipv4Bytes) : ''
  const ipv6 = (flags & INTERFACE_FLAGS.IPV6) !== 0 || !allZero(ipv6Bytes) ? bytesToIpv6(ipv6Bytes) : ''
  return { interfaceGroupName, version, state, ipv4, ipv6, flags }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------


/** The core's registration key for a handle: its GUID, or '' for the nil GUID of the NULL handle. */
function keyOfHandle(handle: NdrContextHandle): string {
  return handle.uuid === NIL_UUID ? '' : handle.uuid
}

/** The handle we issue for a key: attributes 0 and the key as GUID; '' is the NULL handle. */
function handleOfKey(key: string): NdrContextHandle {
  return key === '' ? NULL_CONTEXT_HANDLE : { attributes: 0, uuid: key.toLowerCase() }
}
