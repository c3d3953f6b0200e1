// A timer as a promise, for adapters only (cores never wait: they are told the time).
import { setTimeout as delay } from 'node:timers/promises'

export function sleep(ms: number): Promise<void> {
  return delay(ms)
}
