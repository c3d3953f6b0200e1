// The CBT method choice: every row of Veeam's table (seed 000) on both storage flavours, the
// boundaries of its conditions, the cases outside it, methods forced by the user, the
// validation of user input, and a property over random valid contexts.
import t from 'tap'
import fc from 'fast-check'
import {
  HOST_OSES,
  SEED_000_ROWS,
  checkForcedMethod,
  chooseCbtMethod,
  hostMixOf,
  validateCbtContext,
  type CbtContext,
  type HostOs,
  type StorageFlavour,
} from '../../core/cbt/cbt-decision.js'

function ctx(hostOses: HostOs[], vmConfigVersion: number, clusterFunctionalLevel: number, flavour: StorageFlavour = 'microsoft'): CbtContext {
  return { hostOses, vmConfigVersion, clusterFunctionalLevel, flavour }
}

t.test('hostMixOf', async (t) => {
  t.equal(hostMixOf(['2012r2']), 'all-2012r2')
  t.equal(hostMixOf(['2012r2', '2012r2', '2012r2']), 'all-2012r2')
  t.equal(hostMixOf(['2016', '2019', '2022']), 'all-2016+')
  t.equal(hostMixOf(['2022']), 'all-2016+')
  t.equal(hostMixOf(['2012r2', '2022']), 'mixed')
  t.equal(hostMixOf(['2019', '2019', '2012r2']), 'mixed', 'one old host makes the cluster mixed')
  t.throws(() => hostMixOf([]), 'an empty host list is a programming error here')
  t.same([...HOST_OSES], ['2012r2', '2016', '2019', '2022'])
})

t.test('every seed 000 row on a Microsoft file server gives the table method', async (t) => {
  t.same(SEED_000_ROWS.map((r) => r.row), [1, 2, 3, 4])
  t.same(SEED_000_ROWS.map((r) => r.expected), ['filter', 'none', 'none', 'rct'])
  for (const r of SEED_000_ROWS) {
    const d = chooseCbtMethod({ ...r.context, flavour: 'microsoft' })
    t.equal(d.method, r.expected, `row ${r.row}: ${r.hosts}, VM ${r.vmLevel}, cluster ${r.clusterLevel}`)
    t.equal(d.tableRow, r.row, `row ${r.row} is the row that matched`)
    t.equal(d.hostMix, hostMixOf(r.context.hostOses))
  }
})

t.test('on third-party SMB only the filter row changes, to none', async (t) => {
  for (const r of SEED_000_ROWS) {
    const d = chooseCbtMethod({ ...r.context, flavour: 'third-party' })
    t.equal(d.tableRow, r.row, `row ${r.row} still matched`)
    t.equal(d.method, r.row === 1 ? 'none' : r.expected, `row ${r.row}`)
  }
  const row1 = chooseCbtMethod({ ...SEED_000_ROWS[0].context, flavour: 'third-party' })
  t.match(row1.reason, /third-party SMB/, 'the reason names the storage flavour')
  t.match(row1.reason, /filter driver/, 'and the driver it cannot install')
})

t.test('reasons say which facts led to the method', async (t) => {
  const rct = chooseCbtMethod(ctx(['2016', '2022'], 9.0, 10))
  t.equal(rct.reason, 'all hosts 2016+, VM config 9.0 >= 8, cluster level 10 >= 9: Microsoft RCT')
  const filter = chooseCbtMethod(ctx(['2012r2', '2012r2'], 5.0, 8))
  t.match(filter.reason, /all hosts 2012 R2, VM config 5\.0 < 8, cluster level 8 < 9: vendor filter driver/)
  const row3 = chooseCbtMethod(ctx(['2016', '2019'], 5.0, 9))
  t.match(row3.reason, /VM config 5\.0 < 8/)
  t.match(row3.reason, /upgrade/, 'row 3 tells the user what would enable RCT')
  const row2 = chooseCbtMethod(ctx(['2012r2', '2016'], 5.0, 8))
  t.match(row2.reason, /mixed/)
})

t.test('boundaries: VM 7.9 vs 8.0, cluster level 8 vs 9, mixed VM 8.0 vs 8.1', async (t) => {
  const below = chooseCbtMethod(ctx(['2016', '2016'], 7.9, 9))
  t.equal(below.method, 'none')
  t.equal(below.tableRow, 3, 'VM 7.9 is row 3')
  t.match(below.reason, /VM config 7\.9 < 8/)
  const at = chooseCbtMethod(ctx(['2016', '2016'], 8.0, 9))
  t.equal(at.method, 'rct')
  t.equal(at.tableRow, 4, 'VM 8.0 and level 9 are row 4')

  const level8 = chooseCbtMethod(ctx(['2016', '2016'], 8.0, 8))
  t.equal(level8.method, 'none', 'all 2016+ at level 8: a rolling upgrade not finished')
  t.equal(level8.tableRow, null)

  const row1Top = chooseCbtMethod(ctx(['2012r2'], 7.9, 8))
  t.equal(row1Top.method, 'filter', 'VM 7.9 is still row 1')
  const row1Over = chooseCbtMethod(ctx(['2012r2'], 8.0, 8))
  t.equal(row1Over.method, 'none', 'VM 8.0 leaves row 1')
  t.equal(row1Over.tableRow, null)

  const mixedAt8 = chooseCbtMethod(ctx(['2012r2', '2019'], 8.0, 8))
  t.equal(mixedAt8.tableRow, 2, 'row 2 includes VM 8.0 (up to 8)')
  t.equal(mixedAt8.method, 'none')
  const mixedOver = chooseCbtMethod(ctx(['2012r2', '2019'], 8.1, 8))
  t.equal(mixedOver.tableRow, null, 'VM 8.1 leaves row 2')
  t.match(mixedOver.reason, /VM config 8\.1 > 8/)
})

t.test('outside the table: none, no row, and the failing condition named', async (t) => {
  const rolling = chooseCbtMethod(ctx(['2016', '2019', '2022'], 9.0, 8))
  t.same({ method: rolling.method, tableRow: rolling.tableRow, hostMix: rolling.hostMix }, { method: 'none', tableRow: null, hostMix: 'all-2016+' })
  t.match(rolling.reason, /cluster level 8 < 9/)
  t.match(rolling.reason, /rolling upgrade/)
  t.notMatch(rolling.reason, /VM config/, 'the VM version is not what fails')

  const oldHostNewVm = chooseCbtMethod(ctx(['2012r2', '2012r2'], 8.0, 8, 'microsoft'))
  t.equal(oldHostNewVm.method, 'none', 'no filter for a VM that cannot run on 2012 R2')
  t.equal(oldHostNewVm.tableRow, null)
  t.match(oldHostNewVm.reason, /VM config 8\.0 >= 8 cannot run on a 2012 R2 host/)
  t.notMatch(oldHostNewVm.reason, /cluster level/, 'the cluster level is not what fails')

  const oldHostHighLevel = chooseCbtMethod(ctx(['2012r2'], 5.0, 9))
  t.equal(oldHostHighLevel.tableRow, null)
  t.match(oldHostHighLevel.reason, /cluster level 9 >= 9 needs every host on 2016\+/)

  const both = chooseCbtMethod(ctx(['2012r2', '2016'], 9.0, 10))
  t.equal(both.tableRow, null)
  t.match(both.reason, /VM config 9\.0 > 8/)
  t.match(both.reason, /cluster level 10 >= 9/, 'both failing conditions named')
  for (const d of [rolling, oldHostNewVm, oldHostHighLevel, both]) t.match(d.reason, /outside the compatibility table/)
})

t.test('forced methods: allowed', async (t) => {
  const rct = checkForcedMethod('rct', ctx(['2019', '2022'], 9.0, 10, 'third-party'))
  t.equal(rct.ok, true, 'rct on third-party storage: RCT runs on the hosts')
  if (rct.ok) {
    t.equal(rct.decision.method, 'rct')
    t.equal(rct.decision.tableRow, 4)
    t.match(rct.decision.reason, /^forced rct/)
  }
  const filter = checkForcedMethod('filter', ctx(['2012r2', '2012r2'], 5.0, 8, 'microsoft'))
  t.equal(filter.ok, true)
  if (filter.ok) t.equal(filter.decision.method, 'filter')
  for (const c of [ctx(['2016'], 9.0, 10), ctx(['2012r2', '2016'], 9.0, 8, 'third-party'), ctx(['2012r2'], 5.0, 8)]) {
    const none = checkForcedMethod('none', c)
    t.equal(none.ok, true, 'none is always allowed')
    if (none.ok) {
      t.equal(none.decision.method, 'none')
      t.match(none.decision.reason, /the table would choose (rct|filter|none)/)
    }
  }
  const none = checkForcedMethod('none', ctx(['2016'], 9.0, 10))
  if (none.ok) t.match(none.decision.reason, /would choose rct/)
})

t.test('forced methods: refused with a one-line error', async (t) => {
  const mixed = checkForcedMethod('rct', ctx(['2012r2', '2016'], 5.0, 8))
  t.same(mixed, { ok: false, error: 'rct needs every host on 2016+, VM config 8+ and cluster level 9+; here: hosts 2012r2,2016 (mixed), VM config 5.0, cluster level 8' })
  const lowVm = checkForcedMethod('rct', ctx(['2016', '2019'], 7.9, 9))
  t.equal(lowVm.ok, false, 'row 3 refuses rct')
  const lowLevel = checkForcedMethod('rct', ctx(['2016', '2019'], 9.0, 8))
  t.equal(lowLevel.ok, false, 'a rolling upgrade refuses rct')

  const thirdParty = checkForcedMethod('filter', ctx(['2012r2', '2012r2'], 5.0, 8, 'third-party'))
  t.equal(thirdParty.ok, false)
  if (!thirdParty.ok) {
    t.match(thirdParty.error, /^filter needs a Microsoft file server/)
    t.match(thirdParty.error, /on third-party SMB storage$/)
    t.notMatch(thirdParty.error, /\n/, 'one line')
  }
  const newHosts = checkForcedMethod('filter', ctx(['2016', '2019'], 5.0, 9, 'microsoft'))
  t.equal(newHosts.ok, false, 'no filter driver for 2016+')
  if (!newHosts.ok) t.match(newHosts.error, /every host on 2012 R2.*here: hosts 2016,2019 \(all-2016\+\)/)
  t.equal(checkForcedMethod('filter', ctx(['2012r2', '2016'], 5.0, 8)).ok, false, 'nor in a mixed cluster')
  t.equal(checkForcedMethod('filter', ctx(['2012r2'], 8.0, 8)).ok, false, 'nor outside row 1 on 2012 R2')
})

t.test('validateCbtContext reports user errors in one line', async (t) => {
  t.equal(validateCbtContext(ctx(['2016'], 9.0, 10)), null)
  t.equal(validateCbtContext(ctx(['2012r2'], 5.0, 8, 'third-party')), null)
  const cases: Array<[string, unknown, RegExp]> = [
    ['empty host list', { hostOses: [], vmConfigVersion: 9, clusterFunctionalLevel: 10, flavour: 'microsoft' }, /no hosts/],
    ['unknown OS', { hostOses: ['2016', '2008r2'], vmConfigVersion: 9, clusterFunctionalLevel: 10, flavour: 'microsoft' }, /unknown host OS "2008r2" \(known: 2012r2, 2016, 2019, 2022\)/],
    ['NaN VM version', { hostOses: ['2016'], vmConfigVersion: NaN, clusterFunctionalLevel: 10, flavour: 'microsoft' }, /VM config version .* got NaN/],
    ['zero VM version', { hostOses: ['2016'], vmConfigVersion: 0, clusterFunctionalLevel: 10, flavour: 'microsoft' }, /VM config version/],
    ['VM version as a string', { hostOses: ['2016'], vmConfigVersion: '9.0', clusterFunctionalLevel: 10, flavour: 'microsoft' }, /VM config version/],
    ['NaN level', { hostOses: ['2016'], vmConfigVersion: 9, clusterFunctionalLevel: NaN, flavour: 'microsoft' }, /cluster functional level .* got NaN/],
    ['fractional level', { hostOses: ['2016'], vmConfigVersion: 9, clusterFunctionalLevel: 9.5, flavour: 'microsoft' }, /cluster functional level .* got 9\.5/],
    ['unknown flavour', { hostOses: ['2016'], vmConfigVersion: 9, clusterFunctionalLevel: 10, flavour: 'netapp' }, /unknown storage flavour "netapp"/],
    ['hosts not a list', { hostOses: '2016', vmConfigVersion: 9, clusterFunctionalLevel: 10, flavour: 'microsoft' }, /no hosts/],
  ]
  for (const [name, value, pattern] of cases) {
    const error = validateCbtContext(value as CbtContext)
    t.match(error, pattern, name)
    t.notMatch(error ?? '', /\n/, `${name}: one line`)
    t.throws(() => chooseCbtMethod(value as CbtContext), `${name}: chooseCbtMethod asserts a validated context`)
    t.throws(() => checkForcedMethod('none', value as CbtContext), `${name}: so does checkForcedMethod`)
  }
})

t.test('random valid contexts: rct only in row 4, filter only in row 1 on Microsoft, the choice can be forced', async (t) => {
  const ctxArb = fc.record({
    hostOses: fc.array(fc.constantFrom(...HOST_OSES), { minLength: 1, maxLength: 6 }),
    vmConfigVersion: fc.constantFrom(5.0, 6.2, 7.0, 7.9, 8.0, 8.1, 8.3, 9.0, 10.0, 11.0),
    clusterFunctionalLevel: fc.integer({ min: 7, max: 12 }),
    flavour: fc.constantFrom<StorageFlavour>('microsoft', 'third-party'),
  })
  fc.assert(
    fc.property(ctxArb, (c) => {
      if (validateCbtContext(c) !== null) throw new Error(`generated an invalid context: ${validateCbtContext(c)}`)
      const d = chooseCbtMethod(c)
      if ((d.method === 'rct') !== (d.tableRow === 4)) throw new Error(`rct outside row 4: ${d.reason}`)
      if ((d.method === 'filter') !== (d.tableRow === 1 && c.flavour === 'microsoft')) throw new Error(`filter misplaced: ${d.reason}`)
      if (d.reason.length === 0 || d.reason.includes('\n')) throw new Error('a reason is one non-empty line')
      const forced = checkForcedMethod(d.method, c)
      if (!forced.ok) throw new Error(`the table's own choice ${d.method} is refused: ${forced.error}`)
      const other = (['rct', 'filter'] as const).filter((m) => m !== d.method)
      for (const m of other) if (checkForcedMethod(m, c).ok) throw new Error(`${m} forced where the table chose ${d.method}`)
    }),
    { numRuns: 2000 },
  )
  t.pass('2000 random contexts')
})
