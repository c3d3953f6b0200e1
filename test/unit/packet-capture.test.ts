// The pure parts of cluster/packet-capture.ts: the BPF filter and tshark decode-as options of a
// capture, and the pcapng reader that tells when a marker connection has reached the file.
import t from 'tap'
import { captureFilter, decodeAsArgs, tcpPorts, type CaptureSpec } from '../../cluster/packet-capture.js'

const spec: CaptureSpec = {
  servers: [
    { hosts: ['127.0.1.1', '127.0.2.1', '127.0.1.1'], ports: [4450, 135, 4450, 39000] },
    { hosts: ['127.0.1.2'], ports: [4451] },
  ],
  decodeAs: [
    { port: 4450, protocol: 'nbss' },
    { port: 39000, protocol: 'dcerpc' },
  ],
}

t.test('filter and decode-as options', async (t) => {
  t.equal(
    captureFilter(spec),
    'tcp and (' +
      '((src host 127.0.1.1 or src host 127.0.2.1) and (src port 135 or src port 4450 or src port 39000)) or ' +
      '((dst host 127.0.1.1 or dst host 127.0.2.1) and (dst port 135 or dst port 4450 or dst port 39000)) or ' +
      '((src host 127.0.1.2) and (src port 4451)) or ((dst host 127.0.1.2) and (dst port 4451)))',
  )
  t.same(decodeAsArgs(spec), ['-d', 'tcp.port==4450,nbss', '-d', 'tcp.port==39000,dcerpc'])
  t.throws(() => captureFilter({ servers: [{ hosts: [], ports: [1] }], decodeAs: [] }), /nothing to capture/)
})

function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)])
  const b = Buffer.alloc(12 + padded.length)
  b.writeUInt32LE(type, 0)
  b.writeUInt32LE(b.length, 4)
  padded.copy(b, 8)
  b.writeUInt32LE(b.length, b.length - 4)
  return b
}

function ethernetTcp(src: number, dst: number): Buffer {
  const frame = Buffer.alloc(14 + 20 + 20)
  frame.writeUInt16BE(0x0800, 12)
  frame[14] = 0x45
  frame[14 + 9] = 6
  frame.writeUInt16BE(src, 34)
  frame.writeUInt16BE(dst, 36)
  return frame
}

function epb(frame: Buffer): Buffer {
  const head = Buffer.alloc(20)
  head.writeUInt32LE(0, 0)
  head.writeUInt32LE(frame.length, 12)
  head.writeUInt32LE(frame.length, 16)
  return block(6, Buffer.concat([head, frame]))
}

t.test('pcapng: TCP ports of every complete packet', async (t) => {
  const shbBody = Buffer.alloc(16)
  shbBody.writeUInt32LE(0x1a2b3c4d, 0)
  shbBody.writeUInt16LE(1, 4)
  shbBody.writeBigInt64LE(-1n, 8)
  const idbBody = Buffer.alloc(8)
  idbBody.writeUInt16LE(1, 0)
  idbBody.writeUInt32LE(262144, 4)
  const file = Buffer.concat([block(0x0a0d0d0a, shbBody), block(1, idbBody), epb(ethernetTcp(51000, 4450)), epb(ethernetTcp(4450, 51000)), epb(ethernetTcp(52000, 135))])
  t.same([...tcpPorts(file)].sort((a, b) => a - b), [135, 4450, 51000, 52000])
  // dumpcap may be halfway through a block: what is cut short is not read.
  t.same([...tcpPorts(file.subarray(0, file.length - 10))].sort((a, b) => a - b), [4450, 51000])
  t.same([...tcpPorts(Buffer.alloc(0))], [])
  t.same([...tcpPorts(Buffer.from('not a pcapng file at all, just text'))], [])
})
