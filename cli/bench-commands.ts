// `swlab bench failover|fanout|cluster-up|smb-wire [options]`: runs a benchmark of
// bench/ (each prints one JSON document) with the options given after its name.
import { Command } from 'commander'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ClusterError } from '../cluster/cluster.js'
import { packageRoot } from '../proto/loader.js'

const BENCHES: Record<string, string> = {
  failover: 'failover.js',
  backup: 'backup.js',
  'witness-dcerpc': 'witness-dcerpc.js',
  fanout: 'witness-fanout.js',
  'witness-fanout': 'witness-fanout.js',
  'cluster-up': 'cluster-up.js',
  'smb-wire': 'smb-wire.js',
}

export function addBenchCommands(program: Command): void {
  program
    .command('bench <name> [options...]')
    .description(`run a benchmark (${Object.keys(BENCHES).join(', ')}); options go to it, e.g. bench failover --trials 10 --fault kill`)
    .allowUnknownOption()
    .helpOption(false)
    .action((name: string, options: string[], _opts: unknown, command: Command) => {
      // The help option is off so that a bench's own options pass through; `bench --help` still helps.
      if (name === '--help' || name === '-h' || name === 'help') return command.outputHelp()
      const script = BENCHES[name]
      if (!script) throw new ClusterError(`unknown bench ${name} (${Object.keys(BENCHES).join(', ')})`)
      // --json is what every bench prints anyway; accept it for the CLI contract.
      const args = options.filter((a) => a !== '--json')
      const r = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'bench', script), ...args], { stdio: 'inherit' })
      if (r.status !== 0) process.exitCode = r.status ?? 1
    })
}
