// The little of ASN.1 DER (X.690) that SPNEGO needs: single-byte tags, definite lengths,
// OBJECT IDENTIFIER, OCTET STRING, BIT STRING, ENUMERATED, GeneralString, SEQUENCE and context
// tags. Hand-written rather than a package: protocol/ imports no npm package, and the subset is
// small enough to check completely.
//
// The reader faces the network. Every element's length is checked to lie inside its parent
// before the element is looked at; nesting depth, OID size and element counts are bounded; an
// indefinite length (BER only) and multi-byte tags are refused. Long-form lengths that are longer
// than needed are accepted (BER allows them and a peer's encoder may emit them); the writer always
// emits DER's minimal form. The reader's one failure is a DerError, caught at the SPNEGO codec's
// boundary and returned as a value.
import assert from 'node:assert/strict'

export class DerError extends Error {
  override readonly name = 'DerError'

  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} (at offset ${offset})`)
  }
}

/** Tags used here (X.690 8.1.2: class in the top two bits, constructed bit 0x20). */
export const DER_TAG = {
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  ENUMERATED: 0x0a,
  GENERAL_STRING: 0x1b,
  SEQUENCE: 0x30,
  /** [APPLICATION 0] constructed: the GSS-API InitialContextToken (RFC 2743 3.1). */
  APPLICATION_0: 0x60,
} as const

/** [n] constructed, context-specific (explicit tagging, as the SPNEGO module uses). */
export function contextTag(n: number): number {
  assert.ok(n >= 0 && n < 31)
  return 0xa0 | n
}

/** Four length bytes (4 GiB) is far beyond any token; a longer length field is refused. */
const LENGTH_BYTES_MAX = 4
/** Arcs are kept as JavaScript numbers: 7 base-128 digits (49 bits) keep them exact. */
const OID_ARC_BYTES_MAX = 7
export const OID_BYTES_MAX = 64

export interface DerElement {
  readonly tag: number
  /** Where the tag byte is. */
  readonly start: number
  readonly contentStart: number
  readonly contentEnd: number
}

/** Reads the elements between start and end of bytes, one after another. */
export class DerReader {
  private position: number

  constructor(
    readonly bytes: Buffer,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.position = start
  }

  static inside(bytes: Buffer, parent: DerElement): DerReader {
    return new DerReader(bytes, parent.contentStart, parent.contentEnd)
  }

  get atEnd(): boolean {
    return this.position >= this.end
  }

  get offset(): number {
    return this.position
  }

  /** The tag of the next element, or undefined at the end. */
  peekTag(): number | undefined {
    return this.atEnd ? undefined : this.bytes[this.position]
  }

  /** The next element; its content must end inside this reader's range. */
  next(what: string): DerElement {
    const start = this.position
    if (start >= this.end) this.fail(`${what}: missing`, start)
    const tag = this.bytes[start]
    if ((tag & 0x1f) === 0x1f) this.fail(`${what}: multi-byte tag`, start)
    if (start + 1 >= this.end) this.fail(`${what}: no length`, start)
    const first = this.bytes[start + 1]
    let length: number
    let contentStart: number
    if (first < 0x80) {
      length = first
      contentStart = start + 2
    } else {
      const count = first & 0x7f
      if (count === 0) this.fail(`${what}: indefinite length`, start + 1)
      if (count > LENGTH_BYTES_MAX) this.fail(`${what}: length of ${count} bytes`, start + 1)
      if (start + 2 + count > this.end) this.fail(`${what}: length runs past the end`, start + 1)
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + this.bytes[start + 2 + i]
      contentStart = start + 2 + count
    }
    const contentEnd = contentStart + length
    if (contentEnd > this.end) this.fail(`${what}: ${length} content bytes run past the end of the enclosing element (${this.end - contentStart} left)`, start)
    this.position = contentEnd
    return { tag, start, contentStart, contentEnd }
  }

  /** The next element, which must carry tag. */
  expect(tag: number, what: string): DerElement {
    const e = this.next(what)
    if (e.tag !== tag) this.fail(`${what}: tag 0x${e.tag.toString(16)}, expected 0x${tag.toString(16)}`, e.start)
    return e
  }

  /** Content of a [n] explicit tag holding exactly one element of innerTag. */
  explicit(n: number, innerTag: number, what: string): DerElement {
    const outer = this.expect(contextTag(n), what)
    const inner = DerReader.inside(this.bytes, outer)
    const e = inner.expect(innerTag, what)
    inner.expectEnd(what)
    return e
  }

  content(e: DerElement): Buffer {
    return Buffer.from(this.bytes.subarray(e.contentStart, e.contentEnd))
  }

  oid(e: DerElement, what: string): string {
    return decodeOid(this.bytes.subarray(e.contentStart, e.contentEnd), what, e.contentStart)
  }

  /** Nothing may follow in this range. */
  expectEnd(what: string): void {
    if (!this.atEnd) this.fail(`${what}: ${this.end - this.position} unexpected bytes`, this.position)
  }

  fail(reason: string, offset: number): never {
    throw new DerError(reason, offset)
  }
}

function decodeOid(content: Buffer, what: string, at: number): string {
  if (content.length === 0) throw new DerError(`${what}: empty OBJECT IDENTIFIER`, at)
  if (content.length > OID_BYTES_MAX) throw new DerError(`${what}: OBJECT IDENTIFIER of ${content.length} bytes`, at)
  const arcs: number[] = []
  let value = 0
  let digits = 0
  for (let i = 0; i < content.length; i++) {
    const b = content[i]
    // X.690 8.19.2: the leading digit of a subidentifier is never 0x80 (no padding).
    if (digits === 0 && b === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER arc padded with 0x80`, at + i)
    value = value * 128 + (b & 0x7f)
    digits++
    if (digits > OID_ARC_BYTES_MAX) throw new DerError(`${what}: OBJECT IDENTIFIER arc too large`, at + i)
    if ((b & 0x80) === 0) {
      arcs.push(value)
      value = 0
      digits = 0
    }
  }
  if (digits !== 0) throw new DerError(`${what}: OBJECT IDENTIFIER ends inside an arc`, at + content.length - 1)
  // X.690 8.19.4: the first subidentifier is 40 * arc1 + arc2, arc1 in 0..2.
  const first = arcs[0]
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
  return [...head, ...arcs.slice(1)].join('.')
}

/** The content bytes of an OBJECT IDENTIFIER given in dotted form. */
export function encodeOidContent(oid: string): Buffer {
  const arcs = oid.split('.').map((s) => {
    assert.ok(/^\d+$/.test(s), `OID ${oid}`)
    return Number(s)
  })
  assert.ok(arcs.length >= 2 && arcs[0] <= 2 && (arcs[0] === 2 || arcs[1] < 40), `OID ${oid}`)
  const subs = [arcs[0] * 40 + arcs[1], ...arcs.slice(2)]
  const bytes: number[] = []
  for (const sub of subs) {
    assert.ok(Number.isSafeInteger(sub) && sub < 2 ** 49, `OID arc ${sub}`)
    const digits: number[] = []
    let v = sub
    do {
      digits.unshift(v % 128)
      v = Math.floor(v / 128)
    } while (v > 0)
    for (let i = 0; i < digits.length; i++) bytes.push(digits[i] | (i < digits.length - 1 ? 0x80 : 0))
  }
  assert.ok(bytes.length <= OID_BYTES_MAX)
  return Buffer.from(bytes)
}

/** tag, the minimal DER length, then the content parts. */
export function derElement(tag: number, ...content: Uint8Array[]): Buffer {
  const length = content.reduce((n, c) => n + c.length, 0)
  let header: Buffer
  if (length < 0x80) header = Buffer.from([tag, length])
  else {
    const digits: number[] = []
    for (let v = length; v > 0; v = Math.floor(v / 256)) digits.unshift(v % 256)
    assert.ok(digits.length <= LENGTH_BYTES_MAX)
    header = Buffer.from([tag, 0x80 | digits.length, ...digits])
  }
  return Buffer.concat([header, ...content])
}

export function derOid(oid: string): Buffer {
  return derElement(DER_TAG.OID, encodeOidContent(oid))
}

/** [n] EXPLICIT around one element. */
export function derExplicit(n: number, inner: Uint8Array): Buffer {
  return derElement(contextTag(n), inner)
}
