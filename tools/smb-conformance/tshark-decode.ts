// Wireshark as a judge of an SMB server's wire format: a session recorded on loopback with
// dumpcap is read back with tshark, which must flag no packet as malformed and must see the
// SMB2 commands of the session (negotiate … logoff) and a srvsvc call over a named pipe.
import { spawnSync } from 'node:child_process'

export function tsharkMissing(): string | null {
  return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0 ? null : 'tshark is not installed (apt-get install tshark)'
}

/** MS-SMB2 2.2.1.2 command codes, by name. */
export const SMB2_COMMANDS: Readonly<Record<string, number>> = {
  NEGOTIATE: 0x00,
  SESSION_SETUP: 0x01,
  LOGOFF: 0x02,
  TREE_CONNECT: 0x03,
  TREE_DISCONNECT: 0x04,
  CREATE: 0x05,
  CLOSE: 0x06,
  FLUSH: 0x07,
  READ: 0x08,
  WRITE: 0x09,
  LOCK: 0x0a,
  IOCTL: 0x0b,
  CANCEL: 0x0c,
  ECHO: 0x0d,
  QUERY_DIRECTORY: 0x0e,
  CHANGE_NOTIFY: 0x0f,
  QUERY_INFO: 0x10,
  SET_INFO: 0x11,
  OPLOCK_BREAK: 0x12,
}

export interface DecodedRow {
  readonly frame: number
  readonly fields: readonly string[]
}

/** `tshark -r pcap -d tcp.port==PORT,nbss -Y filter -T fields -e …`: one row per packet. */
export function tsharkFields(pcap: string, port: number, filter: string, fields: readonly string[]): { rows: DecodedRow[]; error: string | null } {
  const r = spawnSync(
    'tshark',
    ['-r', pcap, '-d', `tcp.port==${port},nbss`, '-Y', filter, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  )
  if (r.status !== 0) return { rows: [], error: (r.stderr || r.error?.message || `exit ${r.status}`).trim() }
  const rows = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [frame, ...rest] = l.split('\t')
      return { frame: Number(frame), fields: rest }
    })
  return { rows, error: null }
}

export interface SessionDecode {
  /** Frames tshark flags as malformed, with the SMB2 commands in them ("0,r" = NEGOTIATE response). */
  readonly malformed: readonly { frame: number; commands: string; protocols: string }[]
  /** Every SMB2 command code seen, in requests or responses. */
  readonly commands: ReadonlySet<number>
  /** Dialects the server chose in NEGOTIATE responses (e.g. 0x0311). */
  readonly dialects: ReadonlySet<number>
  /** How many SMB2 messages carry the SIGNED flag. */
  readonly signedMessages: number
  /** srvsvc operation numbers seen (15: NetShareEnumAll, 16: NetShareGetInfo). */
  readonly srvsvcOpnums: ReadonlySet<number>
  readonly error: string | null
}

/** Reads a capture of one or more SMB sessions to the port. */
export function decodeSession(pcap: string, port: number): SessionDecode {
  const malformed = tsharkFields(pcap, port, '_ws.malformed || _ws.expert.severity == error', ['smb2.cmd', 'smb2.flags.response', 'frame.protocols'])
  const smb2 = tsharkFields(pcap, port, 'smb2', ['smb2.cmd', 'smb2.flags.signature', 'smb2.dialect', 'smb2.flags.response'])
  const srvsvc = tsharkFields(pcap, port, 'srvsvc', ['srvsvc.opnum'])
  const error = malformed.error ?? smb2.error ?? srvsvc.error
  const commands = new Set<number>()
  const dialects = new Set<number>()
  let signedMessages = 0
  for (const row of smb2.rows) {
    const cmds = (row.fields[0] ?? '').split(',').filter(Boolean).map(Number)
    for (const c of cmds) commands.add(c)
    signedMessages += (row.fields[1] ?? '').split(',').filter((f) => f === '1' || f === 'True').length
    // The NEGOTIATE request lists every dialect offered; the response names the one chosen.
    const response = (row.fields[3] ?? '').split(',')[0] === '1' || (row.fields[3] ?? '').startsWith('True')
    const ds = (row.fields[2] ?? '').split(',').filter(Boolean).map((d) => Number(d))
    if (cmds.length === 1 && cmds[0] === SMB2_COMMANDS.NEGOTIATE && response && ds.length === 1) dialects.add(ds[0])
  }
  const srvsvcOpnums = new Set(srvsvc.rows.flatMap((r) => (r.fields[0] ?? '').split(',').filter(Boolean).map(Number)))
  return {
    malformed: malformed.rows.map((r) => ({ frame: r.frame, commands: `${r.fields[0] ?? ''}/${r.fields[1] ?? ''}`, protocols: r.fields[2] ?? '' })),
    commands,
    dialects,
    signedMessages,
    srvsvcOpnums,
    error,
  }
}
