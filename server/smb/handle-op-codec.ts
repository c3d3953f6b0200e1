// The peer-wire form of handle operations and their replies. The structure goes as JSON and
// every Buffer in it as raw bytes after it: base64 inside the JSON cost a forwarded MiB about
// 17 ms of encoding and parsing on each hop, the main cost of IO through a non-owner node.
// Only forwarded operations pay for this; operations served locally keep their Buffers.
//
//   0x01 | u32 json length | json (a Buffer is {"$buf": index}) | per Buffer: u32 length | bytes

const FORMAT_VERSION = 0x01
const BUFFER_TAG = '$buf'
const HEADER_BYTES = 5
/** A message carries at most a few data buffers; a bound keeps a hostile count cheap to refuse. */
const BUFFERS_MAX = 1024

export function encodeHandleMessage(value: unknown): Buffer {
  const buffers: Buffer[] = []
  // Buffers are taken out before JSON.stringify, which would first turn each into an array
  // of numbers (Buffer.toJSON): that conversion was most of the cost.
  const strip = (v: unknown): unknown => {
    if (Buffer.isBuffer(v)) {
      buffers.push(v)
      return { [BUFFER_TAG]: buffers.length - 1 }
    }
    if (Array.isArray(v)) return v.map(strip)
    // Anything else that serialises itself (a Date) keeps its JSON form.
    if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') return strip((v as { toJSON: () => unknown }).toJSON())
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]))
    return v
  }
  const json = Buffer.from(JSON.stringify(strip(value)) ?? 'null')
  const header = Buffer.alloc(HEADER_BYTES)
  header[0] = FORMAT_VERSION
  header.writeUInt32BE(json.length, 1)
  const parts: Buffer[] = [header, json]
  for (const b of buffers) {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(b.length, 0)
    parts.push(length, b)
  }
  return Buffer.concat(parts)
}

/** Throws on malformed input; callers answer that with an error, never a crash. */
export function decodeHandleMessage(payload: Uint8Array): unknown {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  if (bytes.length < HEADER_BYTES || bytes[0] !== FORMAT_VERSION) throw new Error('handle message: bad header')
  const jsonLength = bytes.readUInt32BE(1)
  if (jsonLength > bytes.length - HEADER_BYTES) throw new Error('handle message: JSON length past the end')
  const buffers: Buffer[] = []
  let at = HEADER_BYTES + jsonLength
  while (at < bytes.length) {
    if (buffers.length >= BUFFERS_MAX) throw new Error(`handle message: more than ${BUFFERS_MAX} buffers`)
    if (at + 4 > bytes.length) throw new Error('handle message: truncated buffer length')
    const length = bytes.readUInt32BE(at)
    at += 4
    if (length > bytes.length - at) throw new Error('handle message: buffer past the end')
    // A copy: the message's memory belongs to the transport and may be reused.
    buffers.push(Buffer.from(bytes.subarray(at, at + length)))
    at += length
  }
  const used = new Set<number>()
  const value = JSON.parse(bytes.toString('utf8', HEADER_BYTES, HEADER_BYTES + jsonLength), (_key, v: unknown) => {
    if (v && typeof v === 'object' && BUFFER_TAG in (v as Record<string, unknown>)) {
      const index = (v as Record<string, unknown>)[BUFFER_TAG]
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= buffers.length || used.has(index)) {
        throw new Error(`handle message: bad buffer reference ${JSON.stringify(index)}`)
      }
      used.add(index)
      return buffers[index]
    }
    return v
  })
  if (used.size !== buffers.length) throw new Error('handle message: unreferenced buffers')
  return value
}
