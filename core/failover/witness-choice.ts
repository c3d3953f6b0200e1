// Which witness service the client registers with (MS-SWN 3.2.4.1, seed 001): an AVAILABLE
// interface with the witness flag of another node than the data node, because the node that
// serves the data cannot be the one that reports its death. The application may prefer one
// (tests and demos pin it); a witness node the client just lost goes last, so that the next
// registration lands elsewhere even while the cluster still lists that node as available.
// Otherwise the list starts at a random candidate (the core's random input, seeded in the
// simulator): clients that all took the first interface in the server's order piled every
// registration of a cluster onto one node, which then had to send every notification.
import { INTERFACE_FLAGS, INTERFACE_STATE } from '../../protocol/swn/witness-calls.js'
import type { WitnessInterfaceEntry } from './failover-input.js'

export interface WitnessPreferences {
  readonly preferredWitnessIp?: string
  /** The witness node whose AsyncNotify just failed ('' if none). */
  readonly lostWitnessIp: string
  /**
   * The node that answered GetInterfaceList, when it is not the data node (the data node did
   * not answer): its own interfaces carry no INTERFACE_WITNESS flag in its answer (MS-SWN
   * 3.1.4.1: the flag marks addresses not hosted by the answering server), yet it just
   * answered, so it is a witness the client can register with.
   */
  readonly listerIp?: string
}

/** The witness IPs to try in order. Entries without an IPv4 address are kept (the count is reported) but cannot be resolved. */
export function witnessCandidates(
  interfaces: readonly WitnessInterfaceEntry[],
  dataIp: string,
  prefs: WitnessPreferences,
  /** In [0, 1): which candidate comes first; the rest follow in the server's order, wrapping around. */
  random: number,
): string[] {
  const eligible = interfaces
    .filter(
      (i) =>
        i.state === INTERFACE_STATE.AVAILABLE &&
        ((i.flags & INTERFACE_FLAGS.INTERFACE_WITNESS) !== 0 || (prefs.listerIp !== undefined && i.ipv4 === prefs.listerIp)) &&
        i.ipv4 !== dataIp,
    )
    .map((i) => i.ipv4)
  const start = eligible.length === 0 ? 0 : Math.min(eligible.length - 1, Math.floor(Math.max(0, random) * eligible.length))
  const candidates = [...eligible.slice(start), ...eligible.slice(0, start)]
  // A stable sort: preferred first, lost last, the random rotation otherwise.
  const rank = (ip: string) => (ip === prefs.lostWitnessIp && ip !== '' ? 1 : ip === prefs.preferredWitnessIp ? -1 : 0)
  return candidates.sort((a, b) => rank(a) - rank(b))
}
