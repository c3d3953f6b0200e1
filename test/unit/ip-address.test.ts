// The protocol layer parses IP text without node:net; these properties hold it to node:net's
// answers (zone identifiers aside, which the wire has no room for).
import t from 'tap'
import fc from 'fast-check'
import { isIP, isIPv4, isIPv6 } from 'node:net'
import { bytesToIpv4, bytesToIpv6, ipFamily, ipv4ToBytes, ipv6ToBytes } from '../../protocol/ip-address.js'

const ipAlphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''))
const ipLikeText = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.string({ unit: ipAlphabet, maxLength: 46 }),
  // Valid addresses with one character changed, dropped or doubled: the near misses.
  fc.tuple(fc.oneof(fc.ipV4(), fc.ipV6()), fc.nat(), ipAlphabet, fc.constantFrom('replace', 'drop', 'double')).map(([ip, at, c, how]) => {
    const i = at % ip.length
    if (how === 'replace') return ip.slice(0, i) + c + ip.slice(i + 1)
    if (how === 'drop') return ip.slice(0, i) + ip.slice(i + 1)
    return ip.slice(0, i) + ip[i] + ip.slice(i)
  }),
)

t.test('ipv4ToBytes and ipv6ToBytes accept exactly what node:net accepts', async (t) => {
  fc.assert(
    fc.property(ipLikeText, (text) => {
      if ((ipv4ToBytes(text) !== null) !== isIPv4(text)) return false
      if ((ipv6ToBytes(text) !== null) !== isIPv6(text)) return false
      return ipFamily(text) === isIP(text)
    }),
    { numRuns: 20_000 },
  )
  t.pass('20,000 generated texts agree with node:net')
})

t.test('known texts', async (t) => {
  t.equal(ipFamily('10.0.0.1'), 4)
  t.equal(ipFamily('::1'), 6)
  t.equal(ipFamily('::ffff:1.2.3.4'), 6)
  t.equal(ipFamily('1:2:3:4:5:6:1.2.3.4'), 6)
  for (const bad of ['', '01.2.3.4', '1.2.3', '256.1.1.1', '1::2::3', ':::', '1:2:3:4:5:6:7:1.2.3.4', '12345::', 'fe80::1%eth0', ' 1.2.3.4']) {
    t.equal(ipFamily(bad), 0, JSON.stringify(bad))
  }
})

t.test('text -> bytes -> text is the canonical form', async (t) => {
  fc.assert(fc.property(fc.ipV4(), (ip) => bytesToIpv4(ipv4ToBytes(ip)!) === ip))
  fc.assert(fc.property(fc.ipV6(), (ip) => ipv6ToBytes(bytesToIpv6(ipv6ToBytes(ip)!))!.equals(ipv6ToBytes(ip)!)))
  t.pass()
})
