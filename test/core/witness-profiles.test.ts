// The witness profile table: one complete row per profile, and a witness core that reads it
// rather than branching on a profile's name (a new profile must be a new row, nothing else).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { WITNESS_PROFILE_BEHAVIOUR, WITNESS_PROFILES } from '../../core/witness/witness-profiles.js'

t.test('every profile has a row, and every row names every difference', async (t) => {
  t.same(Object.keys(WITNESS_PROFILE_BEHAVIOUR).sort(), [...WITNESS_PROFILES].sort())
  const fields = Object.keys(WITNESS_PROFILE_BEHAVIOUR.ws2012r2).sort()
  for (const profile of WITNESS_PROFILES) t.same(Object.keys(WITNESS_PROFILE_BEHAVIOUR[profile]).sort(), fields, profile)
})

t.test('the witness core never branches on a profile name', async (t) => {
  const source = readFileSync(fileURLToPath(new URL('../../core/witness/witness-core.ts', import.meta.url)), 'utf8')
  for (const profile of WITNESS_PROFILES) t.notMatch(source, new RegExp(`['"]${profile}['"]`), `no '${profile}' literal`)
  t.notMatch(source, /config\.profile\s*[!=]==/, 'no comparison of config.profile')
})
