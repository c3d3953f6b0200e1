// Which CLI invocations re-run themselves inside a cluster's network namespace
// (cli/enter-namespace.ts): commands on a namespaced cluster whose namespace exists, from
// outside it; never `cluster up`, the dashboard or the report; never for other clusters.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { namespaceToEnter } from '../../cli/enter-namespace.js'
import { createNamespace, deleteNamespace, namespaceProblem } from '../../cluster/network-namespace.js'

t.test('no namespace to enter: no cluster, a cluster without one, or one whose namespace is gone', async (t) => {
  const dir = t.testdir()
  t.equal(namespaceToEnter(['cluster', 'status', '--dir', dir], './.swlab'), null, 'no cluster.json')
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ name: 'SOFS' }))
  t.equal(namespaceToEnter(['cluster', 'status', '--dir', dir], './.swlab'), null, 'a cluster on the host loopback')
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ network: { namespace: 'swlab-test-gone-0' } }))
  t.equal(namespaceToEnter(['net', 'heal', `--dir=${dir}`], './.swlab'), null, 'a namespaced cluster that is down')
})

const problem = namespaceProblem()

t.test('a live namespace is entered by every command but up, dashboard and report', { skip: problem ? `--netns ${problem}` : false }, async (t) => {
  const dir = t.testdir()
  const name = `swlab-test-${process.pid}`
  createNamespace(name)
  t.teardown(() => deleteNamespace(name))
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ network: { namespace: name } }))
  for (const argv of [['cluster', 'status'], ['cluster', 'down'], ['net', 'partition', 'node-1/node-2'], ['smb', 'ls', '//node-1/share-1'], ['client', 'run'], ['chaos', 'run']]) {
    t.equal(namespaceToEnter([...argv, '--dir', dir], './.swlab'), name, argv.join(' '))
  }
  for (const argv of [['cluster', 'up', '--nodes', '3'], ['dashboard'], ['report', dir]]) {
    t.equal(namespaceToEnter([...argv, '--dir', dir], './.swlab'), null, `${argv.join(' ')} stays outside`)
  }
  t.equal(namespaceToEnter(['cluster', 'status', '--dir', join(dir, 'elsewhere')], './.swlab'), null, 'another folder: not this namespace')
})
