// A classic pcap file of one TCP connection over IPv4 loopback, built from the payloads each side
// sent (NBSS-framed SMB2, DCE/RPC ...), so tests can ask tshark how it dissects bytes we produce.
// Checksums are left zero (tshark does not check them by default); sequence numbers run per side
// so the stream reassembles.

export interface PcapSegment {
  readonly fromClient: boolean
  readonly payload: Buffer
}

const CLIENT_IP = [127, 0, 0, 2]
const SERVER_IP = [127, 0, 0, 1]
const CLIENT_PORT = 50000
/** The largest payload put in one TCP segment; longer ones are split. */
const SEGMENT_BYTES_MAX = 60_000

export function tcpPcap(segments: readonly PcapSegment[], serverPort: number): Buffer {
  const out: Buffer[] = []
  const global = Buffer.alloc(24)
  global.writeUInt32LE(0xa1b2c3d4, 0)
  global.writeUInt16LE(2, 4)
  global.writeUInt16LE(4, 6)
  global.writeUInt32LE(262144, 16)
  global.writeUInt32LE(1, 20) // LINKTYPE_ETHERNET
  out.push(global)
  const seq = { client: 1000, server: 5000 }
  let time = 0
  const packet = (fromClient: boolean, payload: Buffer, flags: number): void => {
    const eth = Buffer.alloc(14)
    eth.writeUInt16BE(0x0800, 12)
    const ip = Buffer.alloc(20)
    ip[0] = 0x45
    ip.writeUInt16BE(20 + 20 + payload.length, 2)
    ip[8] = 64
    ip[9] = 6
    Buffer.from(fromClient ? CLIENT_IP : SERVER_IP).copy(ip, 12)
    Buffer.from(fromClient ? SERVER_IP : CLIENT_IP).copy(ip, 16)
    const tcp = Buffer.alloc(20)
    tcp.writeUInt16BE(fromClient ? CLIENT_PORT : serverPort, 0)
    tcp.writeUInt16BE(fromClient ? serverPort : CLIENT_PORT, 2)
    tcp.writeUInt32BE(fromClient ? seq.client : seq.server, 4)
    if (flags & 0x10) tcp.writeUInt32BE(fromClient ? seq.server : seq.client, 8)
    tcp[12] = 0x50
    tcp[13] = flags
    tcp.writeUInt16BE(65535, 14)
    const frame = Buffer.concat([eth, ip, tcp, payload])
    const record = Buffer.alloc(16)
    time++
    record.writeUInt32LE(1_700_000_000 + Math.floor(time / 1000), 0)
    record.writeUInt32LE((time % 1000) * 1000, 4)
    record.writeUInt32LE(frame.length, 8)
    record.writeUInt32LE(frame.length, 12)
    out.push(record, frame)
    const advance = payload.length + (flags & 0x02 ? 1 : 0)
    if (fromClient) seq.client += advance
    else seq.server += advance
  }
  packet(true, Buffer.alloc(0), 0x02) // SYN
  packet(false, Buffer.alloc(0), 0x12) // SYN, ACK
  packet(true, Buffer.alloc(0), 0x10) // ACK
  for (const s of segments) {
    for (let at = 0; at < s.payload.length; at += SEGMENT_BYTES_MAX) packet(s.fromClient, s.payload.subarray(at, at + SEGMENT_BYTES_MAX), 0x18)
  }
  return Buffer.concat(out)
}

/** The 4-byte direct-TCP length prefix (MS-SMB2 2.1). */
export function nbss(message: Buffer): Buffer {
  const prefix = Buffer.alloc(4)
  prefix.writeUInt32BE(message.length)
  return Buffer.concat([prefix, message])
}
