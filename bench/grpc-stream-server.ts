// The transport baseline of bench/smb-throughput: a plain grpc-js server in its own process
// that streams N messages of 1 MiB, with no protobuf (identity serializers).
import * as grpc from '@grpc/grpc-js'

const CHUNK = Buffer.alloc(1024 * 1024, 7)
const server = new grpc.Server({ 'grpc.max_send_message_length': 64 * 1024 * 1024 })
server.addService(
  {
    Stream: {
      path: '/bench.Raw/Stream',
      requestStream: false,
      responseStream: true,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: (b: Buffer) => b,
      responseDeserialize: (b: Buffer) => b,
    },
  },
  {
    Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      let left = call.request.readUInt32LE(0)
      const pump = () => {
        while (left > 0) {
          left--
          if (!call.write(CHUNK)) return void call.once('drain', pump)
        }
        call.end()
      }
      pump()
    },
  },
)
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err
  process.stdout.write(`${JSON.stringify({ port })}\n`)
})
process.on('SIGTERM', () => server.forceShutdown())
