// What one node process costs, from inside it (issue 18): load it into the nodes with
//   SWLAB_PROBE_DIR=/tmp/probe NODE_OPTIONS="--import $PWD/scripts/node-probe.mjs" swlab cluster up ...
// then `kill -USR2 <node pid>` writes <dir>/<pid>.json: CPU time and time since the process
// started at three marks (modules loaded: the first read of cluster.json; `node.started`; the
// first quorum.follow or quorum.leader.elected), process.memoryUsage(), V8's heap spaces and
// process.resourceUsage(). With SWLAB_PROBE_CPU_US=<sampling interval> it also writes a CPU
// profile of the process so far (<pid>.cpuprofile, for Chrome's DevTools). A measuring aid, not
// part of the product: it only acts in node-main processes and patches fs.readFileSync and
// fs.writeSync to see the marks.
import fs from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import v8 from 'node:v8'

const dir = process.env.SWLAB_PROBE_DIR
if (dir && process.argv[1]?.endsWith('node-main.js')) {
  fs.mkdirSync(dir, { recursive: true })
  let session = null
  if (process.env.SWLAB_PROBE_CPU_US) {
    const inspector = await import('node:inspector')
    session = new inspector.Session()
    session.connect()
    session.post('Profiler.enable')
    session.post('Profiler.setSamplingInterval', { interval: Number(process.env.SWLAB_PROBE_CPU_US) })
    session.post('Profiler.start')
  }
  const marks = {}
  const mark = (name) => {
    if (marks[name]) return
    const c = process.cpuUsage()
    marks[name] = { ms: Math.round(performance.now()), cpuMs: Math.round((c.user + c.system) / 1000) }
  }
  const readFileSync = fs.readFileSync
  fs.readFileSync = function (path, ...rest) {
    if (String(path).endsWith('cluster.json')) mark('modulesLoaded')
    return readFileSync.call(this, path, ...rest)
  }
  const writeSync = fs.writeSync
  fs.writeSync = function (fd, buffer, ...rest) {
    if (typeof buffer === 'string') {
      if (buffer.includes('"node.started"')) mark('started')
      else if (buffer.includes('"quorum.follow"') || buffer.includes('"quorum.leader.elected"')) mark('joined')
    }
    return writeSync.call(this, fd, buffer, ...rest)
  }
  // The ESM named exports of node:fs (what the node's modules import) follow the patch.
  syncBuiltinESMExports()
  process.on('SIGUSR2', () => {
    const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10
    const m = process.memoryUsage()
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { sizeMb: mb(s.space_size), usedMb: mb(s.space_used_size) }]))
    const usage = process.resourceUsage()
    const report = {
      pid: process.pid,
      node: process.argv[process.argv.indexOf('--id') + 1],
      marks,
      nowMs: Math.round(performance.now()),
      cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000),
      memoryMb: { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) },
      heapSpaces: spaces,
    }
    fs.writeFileSync(join(dir, `${process.pid}.json`), `${JSON.stringify(report, null, 2)}\n`)
    session?.post('Profiler.stop', (err, result) => {
      if (!err) fs.writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile))
    })
  })
}
