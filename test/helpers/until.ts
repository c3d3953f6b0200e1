// Waiting on a condition, never a fixed sleep: polls `check` until it gives a value (not null),
// or fails with what was awaited once timeoutMs has passed.
export async function until<T>(what: string, check: () => Promise<T | null>, timeoutMs = 10_000, pollMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== null) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
}
