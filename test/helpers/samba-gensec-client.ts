// Drives test/helpers/samba-gensec-client.py: Samba 4.17's own SPNEGO/NTLMSSP client code
// (python3-samba) as an oracle for the acceptor in core/auth. Tests skip when /usr/bin/python3
// cannot import samba.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface, type Interface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const PYTHON = '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./samba-gensec-client.py', import.meta.url))

export interface SambaClientConfig {
  readonly user?: string
  readonly password?: string
  readonly domain?: string
  readonly workstation?: string
  readonly anonymous?: boolean
  readonly mech?: 'spnego' | 'ntlmssp'
  readonly features?: ReadonlyArray<'sign' | 'seal' | 'session_key'>
  /** smb.conf parameters for the client's LoadParm. */
  readonly lp?: Readonly<Record<string, string>>
}

export type SambaReply = { ok: true; [key: string]: unknown } | { ok: false; error: string }

/** Why the oracle is unavailable, or undefined when it is there. */
export function sambaGensecUnavailable(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'from samba import gensec, credentials'], { encoding: 'utf8' })
  return r.status === 0 ? undefined : `python3-samba is not installed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`
}

export class SambaGensecClient {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly lines: Interface
  private readonly pending: Array<{ resolve: (line: string) => void; reject: (err: Error) => void }> = []
  private stderr = ''
  private exited: Error | undefined

  constructor(config: SambaClientConfig) {
    this.child = spawn(PYTHON, [SCRIPT, JSON.stringify(config)])
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()))
    this.lines = createInterface({ input: this.child.stdout })
    this.lines.on('line', (line) => this.pending.shift()?.resolve(line))
    this.child.on('exit', (code) => {
      this.exited = new Error(`samba gensec client exited ${code}: ${this.stderr}`)
      for (const p of this.pending.splice(0)) p.reject(this.exited)
    })
  }

  async request(op: Record<string, unknown>): Promise<SambaReply> {
    if (this.exited) throw this.exited
    const reply = new Promise<string>((resolve, reject) => this.pending.push({ resolve, reject }))
    this.child.stdin.write(JSON.stringify(op) + '\n')
    return JSON.parse(await reply) as SambaReply
  }

  async update(token: Buffer): Promise<{ finished: boolean; token: Buffer } | { error: string }> {
    const r = await this.request({ op: 'update', token: token.toString('hex') })
    if (!r.ok) return { error: r.error }
    return { finished: r.finished as boolean, token: Buffer.from(r.token as string, 'hex') }
  }

  close(): void {
    this.lines.close()
    this.child.stdin.end()
    this.child.kill()
  }
}
