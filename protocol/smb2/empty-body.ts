// The bodies that carry nothing but their StructureSize of 4 and a reserved u16 (MS-SMB2):
// LOGOFF (2.2.7, 2.2.8), TREE_DISCONNECT (2.2.11, 2.2.12), ECHO (2.2.28, 2.2.29), CANCEL
// (2.2.30), and the FLUSH and LOCK responses (2.2.18, 2.2.27). SET_INFO's response is the
// same with StructureSize 2 and no reserved field (2.2.40).
import { type Decoded, decodeBody, fixedBody } from './message-reader.js'

export const EMPTY_BODY_SIZE = 4
export const SET_INFO_RESPONSE_SIZE = 2

export function decodeEmptyBody(msg: Buffer, command: string): Decoded<Record<string, never>> {
  return decodeBody(msg, EMPTY_BODY_SIZE, command, () => ({}))
}

export function encodeEmptyBody(): Buffer {
  return fixedBody(EMPTY_BODY_SIZE)
}

export function encodeSetInfoResponse(): Buffer {
  return fixedBody(SET_INFO_RESPONSE_SIZE)
}

export function decodeSetInfoResponse(msg: Buffer): Decoded<Record<string, never>> {
  return decodeBody(msg, SET_INFO_RESPONSE_SIZE, 'SET_INFO response', () => ({}))
}
