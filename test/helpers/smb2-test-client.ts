// A minimal SMB2 client over direct TCP for tests of the wire front: it frames, numbers and
// sends requests built with the protocol codecs and returns the decoded responses. It does no
// signing or encryption of its own; a test hands it a signer when it needs one.
import { connect, type Socket } from 'node:net'
import { directTcpHeader, peekDirectTcpFrame } from '../../protocol/smb2/direct-tcp-frame.js'
import { HEADER_OFFSET, SMB2_FLAGS, type Smb2Header, ZERO_SIGNATURE, chainCompound, decodeHeader, encodeHeader, header, splitCompound } from '../../protocol/smb2/header.js'

export interface Smb2Response {
  readonly header: Smb2Header
  readonly msg: Buffer
}

export class Smb2TestClient {
  private buffered = Buffer.alloc(0)
  private readonly frames: Buffer[] = []
  private waiting: (() => void) | null = null
  private closed = false
  nextMessageId = 0n
  sessionId = 0n
  treeId = 0
  /** Signs a request in place (sets the flag and the signature), when given. */
  signer: ((msg: Buffer) => void) | null = null

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk])
      for (;;) {
        const peek = peekDirectTcpFrame(this.buffered, 16 * 1024 * 1024)
        if (peek.kind !== 'frame' || this.buffered.length < 4 + peek.length) break
        this.frames.push(this.buffered.subarray(4, 4 + peek.length))
        this.buffered = this.buffered.subarray(4 + peek.length)
      }
      this.wake()
    })
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    socket.on('error', () => undefined)
  }

  static connect(host: string, port: number): Promise<Smb2TestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, host, () => resolve(new Smb2TestClient(socket)))
      socket.once('error', reject)
    })
  }

  get isClosed(): boolean {
    return this.closed
  }

  close(): void {
    this.socket.destroy()
  }

  private wake(): void {
    const w = this.waiting
    this.waiting = null
    w?.()
  }

  /** Sends a raw frame (no framing header: it is added). */
  sendFrame(frame: Buffer): void {
    this.socket.write(Buffer.concat([directTcpHeader(frame.length), frame]))
  }

  /** The next frame, or null when the connection closes first or timeoutMs passes. */
  async nextFrame(timeoutMs = 5000): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length === 0) {
      if (this.closed) return null
      const left = deadline - Date.now()
      if (left <= 0) return null
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiting = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    return this.frames.shift() ?? null
  }

  /** A request message with the client's ids; MessageId advances by the charge. */
  request(command: number, body: Buffer | readonly Buffer[], fields: Partial<Smb2Header> = {}): Buffer {
    const charge = fields.creditCharge ?? 1
    const h = header({ command, messageId: this.nextMessageId, sessionId: this.sessionId, treeId: this.treeId, credits: 64, creditCharge: charge, ...fields })
    this.nextMessageId += BigInt(Math.max(1, charge))
    const msg = Buffer.concat([encodeHeader(h), ...(Buffer.isBuffer(body) ? [body] : body)])
    return msg
  }

  /** Sends one request (signed when a signer is set) and waits for its final response (interim ones are skipped). */
  async call(command: number, body: Buffer | readonly Buffer[], fields: Partial<Smb2Header> = {}): Promise<Smb2Response> {
    const msg = this.request(command, body, fields)
    if (this.signer) this.signer(msg)
    this.sendFrame(msg)
    for (;;) {
      const responses = await this.responses()
      const last = responses[responses.length - 1]
      if (last.header.status === 0x103 && (last.header.flags & SMB2_FLAGS.ASYNC_COMMAND) !== 0) continue
      return last
    }
  }

  /** Sends messages as one compound (related members flagged by the caller). */
  async compound(messages: Buffer[]): Promise<Smb2Response[]> {
    const chained = chainCompound(messages)
    if (this.signer) for (const m of chained) this.signer(m)
    this.sendFrame(Buffer.concat(chained))
    return this.responses()
  }

  /** The messages of the next frame. */
  async responses(timeoutMs = 5000): Promise<Smb2Response[]> {
    const frame = await this.nextFrame(timeoutMs)
    if (!frame) throw new Error('no response: the connection closed or timed out')
    const split = splitCompound(frame)
    if (!split.ok) throw new Error(`bad response frame: ${split.error.reason}`)
    return split.value.map((msg) => {
      const h = decodeHeader(msg)
      if (!h.ok) throw new Error(h.error.reason)
      return { header: h.value, msg }
    })
  }
}

/** Zeroes the signature field of a message and sets the SIGNED flag: what a signer does first. */
export function prepareForSigning(msg: Buffer): void {
  msg.writeUInt32LE(msg.readUInt32LE(HEADER_OFFSET.FLAGS) | SMB2_FLAGS.SIGNED, HEADER_OFFSET.FLAGS)
  ZERO_SIGNATURE.copy(msg, HEADER_OFFSET.SIGNATURE)
}
