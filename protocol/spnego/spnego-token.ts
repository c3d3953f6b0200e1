// SPNEGO tokens (RFC 4178 4.2, MS-SPNG 2.2): the negTokenInit a client or server opens with,
// inside the GSS-API InitialContextToken of RFC 2743 3.1 (tag [APPLICATION 0], the SPNEGO OID
// 1.3.6.1.5.5.2, then the NegotiationToken), and the negTokenResp of every later leg (not wrapped).
//
//   NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }
//   NegTokenInit ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
//                               mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
//   NegTokenInit2 (MS-SPNG 2.2.1) puts negHints [3] SEQUENCE { hintName [0] GeneralString OPTIONAL,
//                               hintAddress [1] OCTET STRING OPTIONAL } before mechListMIC [4].
//   NegTokenResp ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] MechType OPTIONAL,
//                               responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL }
//
// The decoders face the network: they return a SpnegoDecodeError for any malformed token and never
// throw. The mechListMIC covers the DER of mechTypes as the client sent it (RFC 4178 5), so the
// decoder returns those bytes too.
import assert from 'node:assert/strict'
import { DER_TAG, DerError, DerReader, contextTag, derElement, derExplicit, derOid } from './der.js'

export const SPNEGO_OID = '1.3.6.1.5.5.2'
export const NTLMSSP_OID = '1.3.6.1.4.1.311.2.2.10'
export const KRB5_OID = '1.2.840.113554.1.2.2'
/** The OID Windows 2000 sent for Kerberos by mistake, still offered by Windows clients. */
export const MS_KRB5_OID = '1.2.840.48018.1.2.2'
export const NEGOEX_OID = '1.3.6.1.4.1.311.2.2.30'

/** negState (RFC 4178 4.2.2). */
export const NEG_STATE = { ACCEPT_COMPLETED: 0, ACCEPT_INCOMPLETE: 1, REJECT: 2, REQUEST_MIC: 3 } as const
export type NegState = (typeof NEG_STATE)[keyof typeof NEG_STATE]

/** A real token offers a handful of mechanisms; more is refused. */
export const MECH_TYPES_MAX = 32
/** The largest token accepted, as the SMB2 and DCE/RPC fronts bound theirs. */
export const SPNEGO_TOKEN_BYTES_MAX = 64 * 1024

export interface NegHints {
  readonly hintName?: string
  readonly hintAddress?: Buffer
}

export interface NegTokenInit {
  readonly mechTypes: readonly string[]
  /** The ContextFlags BIT STRING content: its unused-bits byte, then the bits. */
  readonly reqFlags?: Buffer
  readonly mechToken?: Buffer
  /** NegTokenInit2 only; never sent by this server (tshark 4.0 calls Samba's malformed). */
  readonly negHints?: NegHints
  readonly mechListMIC?: Buffer
}

export interface NegTokenResp {
  readonly negState?: NegState
  readonly supportedMech?: string
  readonly responseToken?: Buffer
  readonly mechListMIC?: Buffer
}

export type NegotiationToken =
  | { readonly kind: 'init'; readonly init: NegTokenInit; /** The DER of MechTypeList as received: what mechListMIC covers. */ readonly mechTypesDer: Buffer }
  | { readonly kind: 'resp'; readonly resp: NegTokenResp }

export class SpnegoDecodeError {
  readonly name = 'SpnegoDecodeError'

  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {}

  toString(): string {
    return `${this.reason} (at offset ${this.offset})`
  }
}

export type SpnegoDecoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SpnegoDecodeError }

/** The DER of MechTypeList (SEQUENCE OF OBJECT IDENTIFIER). */
export function encodeMechTypeList(mechTypes: readonly string[]): Buffer {
  assert.ok(mechTypes.length <= MECH_TYPES_MAX)
  return derElement(DER_TAG.SEQUENCE, ...mechTypes.map(derOid))
}

function octets(n: number, value: Buffer | undefined): Buffer[] {
  return value === undefined ? [] : [derExplicit(n, derElement(DER_TAG.OCTET_STRING, value))]
}

/** negTokenInit inside the InitialContextToken, the first token of either side. */
export function encodeNegTokenInit(init: NegTokenInit): Buffer {
  const fields: Buffer[] = [derExplicit(0, encodeMechTypeList(init.mechTypes))]
  if (init.reqFlags !== undefined) {
    assert.ok(init.reqFlags.length >= 1 && init.reqFlags[0] <= 7, 'reqFlags: unused-bits byte, then the bits')
    fields.push(derExplicit(1, derElement(DER_TAG.BIT_STRING, init.reqFlags)))
  }
  fields.push(...octets(2, init.mechToken))
  if (init.negHints !== undefined) {
    const hints: Buffer[] = []
    if (init.negHints.hintName !== undefined) hints.push(derExplicit(0, derElement(DER_TAG.GENERAL_STRING, Buffer.from(init.negHints.hintName, 'latin1'))))
    if (init.negHints.hintAddress !== undefined) hints.push(derExplicit(1, derElement(DER_TAG.OCTET_STRING, init.negHints.hintAddress)))
    fields.push(derExplicit(3, derElement(DER_TAG.SEQUENCE, ...hints)))
  }
  fields.push(...octets(init.negHints !== undefined ? 4 : 3, init.mechListMIC))
  const negotiationToken = derExplicit(0, derElement(DER_TAG.SEQUENCE, ...fields))
  return derElement(DER_TAG.APPLICATION_0, derOid(SPNEGO_OID), negotiationToken)
}

/** negTokenResp, not wrapped (RFC 4178 4.2: only the initial token carries the GSS-API framing). */
export function encodeNegTokenResp(resp: NegTokenResp): Buffer {
  const fields: Buffer[] = []
  if (resp.negState !== undefined) fields.push(derExplicit(0, derElement(DER_TAG.ENUMERATED, Buffer.from([resp.negState]))))
  if (resp.supportedMech !== undefined) fields.push(derExplicit(1, derOid(resp.supportedMech)))
  fields.push(...octets(2, resp.responseToken))
  fields.push(...octets(3, resp.mechListMIC))
  return derExplicit(1, derElement(DER_TAG.SEQUENCE, ...fields))
}

/**
 * The server's initial token for the SMB2 NEGOTIATE response security buffer (MS-SMB2 3.3.5.4):
 * a negTokenInit offering NTLMSSP only, with no negHints.
 */
export function serverInitialToken(mechTypes: readonly string[] = [NTLMSSP_OID]): Buffer {
  return encodeNegTokenInit({ mechTypes })
}

/**
 * A token from the peer: the InitialContextToken wrapping negTokenInit (or, as some peers send
 * it, negTokenResp), or a bare negTokenResp or negTokenInit.
 */
export function decodeNegotiationToken(bytes: Uint8Array): SpnegoDecoded<NegotiationToken> {
  if (!(bytes instanceof Uint8Array)) return { ok: false, error: new SpnegoDecodeError('not a byte array', 0) }
  if (bytes.length > SPNEGO_TOKEN_BYTES_MAX) return { ok: false, error: new SpnegoDecodeError(`token of ${bytes.length} bytes exceeds ${SPNEGO_TOKEN_BYTES_MAX}`, 0) }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  try {
    const top = new DerReader(buf)
    let choice: DerReader = top
    if (top.peekTag() === DER_TAG.APPLICATION_0) {
      const app = top.expect(DER_TAG.APPLICATION_0, 'InitialContextToken')
      top.expectEnd('InitialContextToken')
      choice = DerReader.inside(buf, app)
      const thisMech = choice.expect(DER_TAG.OID, 'thisMech')
      const oid = choice.oid(thisMech, 'thisMech')
      if (oid !== SPNEGO_OID) choice.fail(`thisMech ${oid} is not SPNEGO`, thisMech.start)
    }
    const token = choice.next('NegotiationToken')
    choice.expectEnd('NegotiationToken')
    if (token.tag === contextTag(0)) return { ok: true, value: readInit(buf, token) }
    if (token.tag === contextTag(1)) return { ok: true, value: { kind: 'resp', resp: readResp(buf, token) } }
    return choice.fail(`NegotiationToken tag 0x${token.tag.toString(16)} is neither negTokenInit [0] nor negTokenResp [1]`, token.start)
  } catch (err) {
    if (err instanceof DerError) return { ok: false, error: new SpnegoDecodeError(err.reason, err.offset) }
    throw err
  }
}

function readInit(buf: Buffer, token: ReturnType<DerReader['next']>): NegotiationToken {
  const outer = DerReader.inside(buf, token)
  const seq = outer.expect(DER_TAG.SEQUENCE, 'NegTokenInit')
  outer.expectEnd('negTokenInit')
  const r = DerReader.inside(buf, seq)
  const mechList = r.explicit(0, DER_TAG.SEQUENCE, 'mechTypes')
  const list = DerReader.inside(buf, mechList)
  const mechTypes: string[] = []
  while (!list.atEnd) {
    if (mechTypes.length >= MECH_TYPES_MAX) list.fail(`more than ${MECH_TYPES_MAX} mechTypes`, list.offset)
    mechTypes.push(list.oid(list.expect(DER_TAG.OID, 'MechType'), 'MechType'))
  }
  const init: { -readonly [K in keyof NegTokenInit]: NegTokenInit[K] } = { mechTypes }
  if (r.peekTag() === contextTag(1)) {
    const flags = r.explicit(1, DER_TAG.BIT_STRING, 'reqFlags')
    const content = r.content(flags)
    if (content.length < 1 || content[0] > 7) r.fail('reqFlags: BIT STRING without a valid unused-bits count', flags.start)
    init.reqFlags = content
  }
  if (r.peekTag() === contextTag(2)) init.mechToken = r.content(r.explicit(2, DER_TAG.OCTET_STRING, 'mechToken'))
  if (r.peekTag() === contextTag(3)) {
    // [3] is mechListMIC in RFC 4178 and negHints in MS-SPNG's NegTokenInit2: the inner tag says which.
    const holder = r.expect(contextTag(3), 'mechListMIC or negHints')
    const inner = DerReader.inside(buf, holder)
    const e = inner.next('mechListMIC or negHints')
    inner.expectEnd('mechListMIC or negHints')
    if (e.tag === DER_TAG.OCTET_STRING) init.mechListMIC = inner.content(e)
    else if (e.tag === DER_TAG.SEQUENCE) init.negHints = readHints(buf, e)
    else inner.fail(`[3] holds tag 0x${e.tag.toString(16)}`, e.start)
  }
  if (init.negHints !== undefined && r.peekTag() === contextTag(4)) init.mechListMIC = r.content(r.explicit(4, DER_TAG.OCTET_STRING, 'mechListMIC'))
  r.expectEnd('NegTokenInit')
  return { kind: 'init', init, mechTypesDer: Buffer.from(buf.subarray(mechList.start, mechList.contentEnd)) }
}

function readHints(buf: Buffer, seq: ReturnType<DerReader['next']>): NegHints {
  const r = DerReader.inside(buf, seq)
  const hints: { -readonly [K in keyof NegHints]: NegHints[K] } = {}
  if (r.peekTag() === contextTag(0)) hints.hintName = r.content(r.explicit(0, DER_TAG.GENERAL_STRING, 'hintName')).toString('latin1')
  if (r.peekTag() === contextTag(1)) hints.hintAddress = r.content(r.explicit(1, DER_TAG.OCTET_STRING, 'hintAddress'))
  r.expectEnd('negHints')
  return hints
}

function readResp(buf: Buffer, token: ReturnType<DerReader['next']>): NegTokenResp {
  const outer = DerReader.inside(buf, token)
  const seq = outer.expect(DER_TAG.SEQUENCE, 'NegTokenResp')
  outer.expectEnd('negTokenResp')
  const r = DerReader.inside(buf, seq)
  const resp: { -readonly [K in keyof NegTokenResp]: NegTokenResp[K] } = {}
  if (r.peekTag() === contextTag(0)) {
    const e = r.explicit(0, DER_TAG.ENUMERATED, 'negState')
    const v = r.content(e)
    if (v.length !== 1 || v[0] > NEG_STATE.REQUEST_MIC) r.fail(`negState ${v.toString('hex')} is not 0 to 3`, e.start)
    resp.negState = v[0] as NegState
  }
  if (r.peekTag() === contextTag(1)) resp.supportedMech = r.oid(r.explicit(1, DER_TAG.OID, 'supportedMech'), 'supportedMech')
  if (r.peekTag() === contextTag(2)) resp.responseToken = r.content(r.explicit(2, DER_TAG.OCTET_STRING, 'responseToken'))
  if (r.peekTag() === contextTag(3)) resp.mechListMIC = r.content(r.explicit(3, DER_TAG.OCTET_STRING, 'mechListMIC'))
  r.expectEnd('NegTokenResp')
  return resp
}
