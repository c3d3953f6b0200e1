// The peer-wire form of handle operations and their replies: JSON, with Buffers as base64.
// Only forwarded operations pay for it; operations served locally keep their Buffers.

const BUFFER_TAG = '$b64'

export function encodeHandleMessage(value: unknown): Buffer {
  return Buffer.from(
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      // JSON.stringify calls Buffer.toJSON before the replacer: look at the raw value.
      const raw = this[key]
      return Buffer.isBuffer(raw) ? { [BUFFER_TAG]: raw.toString('base64') } : v
    }),
  )
}

/** Throws on malformed input; callers answer that with an error, never a crash. */
export function decodeHandleMessage(payload: Uint8Array): unknown {
  return JSON.parse(Buffer.from(payload).toString('utf8'), (_key, v: unknown) => {
    if (v && typeof v === 'object' && BUFFER_TAG in (v as Record<string, unknown>)) {
      const b64 = (v as Record<string, unknown>)[BUFFER_TAG]
      return typeof b64 === 'string' ? Buffer.from(b64, 'base64') : Buffer.alloc(0)
    }
    return v
  })
}
