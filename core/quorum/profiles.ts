// Named timing profiles for failure detection. Detection of a silent node takes
// heartbeatIntervalMs x missedHeartbeatThreshold; every other timer derives from these two.

export interface TimingProfile {
  readonly name: ProfileName
  readonly heartbeatIntervalMs: number
  readonly missedHeartbeatThreshold: number
}

export type ProfileName = 'fast' | 'ws2012' | 'ws2016' | 'ctdb'

export const PROFILES: Readonly<Record<ProfileName, TimingProfile>> = {
  fast: { name: 'fast', heartbeatIntervalMs: 250, missedHeartbeatThreshold: 4 },
  ws2012: { name: 'ws2012', heartbeatIntervalMs: 1000, missedHeartbeatThreshold: 5 },
  ws2016: { name: 'ws2016', heartbeatIntervalMs: 1000, missedHeartbeatThreshold: 10 },
  ctdb: { name: 'ctdb', heartbeatIntervalMs: 5000, missedHeartbeatThreshold: 6 },
}

export const DEFAULT_PROFILE: ProfileName = 'fast'

export function isProfileName(name: string): name is ProfileName {
  return Object.prototype.hasOwnProperty.call(PROFILES, name)
}

/** Timers of the quorum core, all derived from a profile. */
export interface QuorumTiming {
  readonly heartbeatIntervalMs: number
  /** A node silent this long is declared down (interval x threshold): the detection floor. */
  readonly detectionMs: number
  /**
   * A serving lease lasts this long from the moment its holder asked for it. It is one
   * heartbeat shorter than detectionMs, so it always runs out before the rest of the
   * cluster may declare its holder down and hand its resources to another node.
   */
  readonly leaseMs: number
  /** How long one acquisition of the quorum witness lease is valid. */
  readonly witnessLeaseMs: number
}

export function timingOf(profile: TimingProfile): QuorumTiming {
  const detectionMs = profile.heartbeatIntervalMs * profile.missedHeartbeatThreshold
  return {
    heartbeatIntervalMs: profile.heartbeatIntervalMs,
    detectionMs,
    leaseMs: detectionMs - profile.heartbeatIntervalMs,
    witnessLeaseMs: detectionMs,
  }
}
