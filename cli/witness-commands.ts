// `swlab witness list|client-move|share-move|force-unregister|force-response`: admin of the
// SMB witness registrations on every node, in the spirit of Samba's `net witness`.
import { Command, Option } from 'commander'
import { Cluster, ClusterError } from '../cluster/cluster.js'
import type { WitnessFilter } from '../proto/gen/swlab/admin/v1/WitnessFilter.js'
import type { WitnessRegistration__Output } from '../proto/gen/swlab/admin/v1/WitnessRegistration.js'
import { print } from './print-output.js'

interface FilterOptions {
  witnessRegistration?: string
  witnessNetName?: string
  witnessShareName?: string
  witnessIpAddress?: string
  witnessClientComputerName?: string
  witnessApplyToAll?: boolean
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--witness-registration <uuid>', 'one registration')
    .option('--witness-net-name <regex>', 'regex on the NetName')
    .option('--witness-share-name <regex>', 'regex on the ShareName ("" when none)')
    .option('--witness-ip-address <regex>', 'regex on the registered IP address')
    .option('--witness-client-computer-name <regex>', 'regex on the client computer name')
}

function filterOf(o: FilterOptions, needSelection: boolean): WitnessFilter {
  const filter: WitnessFilter = {
    ...(o.witnessRegistration !== undefined ? { registrationId: o.witnessRegistration } : {}),
    ...(o.witnessNetName !== undefined ? { netName: o.witnessNetName } : {}),
    ...(o.witnessShareName !== undefined ? { shareName: o.witnessShareName } : {}),
    ...(o.witnessIpAddress !== undefined ? { ipAddress: o.witnessIpAddress } : {}),
    ...(o.witnessClientComputerName !== undefined ? { clientComputerName: o.witnessClientComputerName } : {}),
    applyToAll: Boolean(o.witnessApplyToAll),
  }
  const hasFilter = Object.keys(filter).length > 1
  if (o.witnessApplyToAll && hasFilter) throw new ClusterError('--witness-apply-to-all cannot be combined with filters')
  if (needSelection && !o.witnessApplyToAll && !hasFilter) throw new ClusterError('give filters or --witness-apply-to-all')
  for (const [name, value] of Object.entries(filter)) {
    if (typeof value !== 'string' || name === 'registrationId') continue
    try {
      new RegExp(value)
    } catch (err) {
      throw new ClusterError(`bad regex ${JSON.stringify(value)}: ${(err as Error).message}`)
    }
  }
  return filter
}

/** Registrations live on the node they were made on: ask every reachable node. */
async function listAll(cluster: Cluster, filter: WitnessFilter): Promise<WitnessRegistration__Output[]> {
  const status = await cluster.status()
  const replies = await Promise.all(
    status.nodes.filter((n) => n.reachable).map((n) => cluster.admin(n.id).witnessList(filter).catch(() => null)),
  )
  const failed = replies.find((r) => r && !r.ok)
  if (failed) throw new ClusterError(failed.error)
  return replies.flatMap((r) => r?.registrations ?? [])
}

export function addWitnessCommands(program: Command, dirOption: () => Option): void {
  const witness = program.command('witness').description('SMB witness registrations (like Samba\'s net witness)')
  withFilters(witness.command('list').description('list registrations on every node'))
    .addOption(dirOption())
    .option('--json', 'print JSON')
    .action(async (o) => {
      const cluster = Cluster.open(o.dir)
      const regs = await listAll(cluster, filterOf(o, false))
      cluster.closeAdmins()
      print(Boolean(o.json), regs, () =>
        [
          'Registration-UUID                     Node     NetName  ShareName  IpAddress     Principal         ClientComputerName',
          ...regs.map((r) =>
            [r.registrationId.padEnd(37), r.node.padEnd(8), r.netName.padEnd(8), (r.shareName || '-').padEnd(10), r.ipAddress.padEnd(13), (r.principal || '-').padEnd(17), r.clientComputerName].join(' '),
          ),
          `${regs.length} registration(s)`,
        ].join('\n'),
      )
    })

  const act = (name: string, description: string, extra: (cmd: Command) => Command, request: (o: Record<string, unknown>) => object) =>
    extra(withFilters(witness.command(name).description(description)))
      .option('--witness-apply-to-all', 'every registration')
      .addOption(dirOption())
      .option('--json', 'print JSON')
      .action(async (o) => {
        const cluster = Cluster.open(o.dir)
        const filter = filterOf(o, true)
        const status = await cluster.status()
        let affected = 0
        for (const n of status.nodes.filter((x) => x.reachable)) {
          const reply = await cluster.admin(n.id).witnessAction({ action: name, filter, ...request(o) })
          if (!reply.ok) throw new ClusterError(`${n.id}: ${reply.error}`)
          affected += reply.affected
        }
        cluster.closeAdmins()
        print(Boolean(o.json), { action: name, affected }, () => `${name}: ${affected} registration(s)`)
      })

  const moveOptions = (cmd: Command) => cmd.option('--witness-new-node <id>', 'destination node').option('--witness-new-ip <ip>', 'destination IP')
  const moveRequest = (o: Record<string, unknown>) => {
    if ((o.witnessNewNode === undefined) === (o.witnessNewIp === undefined)) {
      throw new ClusterError('give exactly one of --witness-new-node or --witness-new-ip')
    }
    return { newNode: (o.witnessNewNode as string) ?? '', newIp: (o.witnessNewIp as string) ?? '' }
  }
  act('client-move', 'send CLIENT_MOVE to the matching registrations', moveOptions, moveRequest)
  act('share-move', 'send SHARE_MOVE to the matching registrations that named a share', moveOptions, moveRequest)
  act('force-unregister', 'delete the matching registrations (a pending AsyncNotify gets NOT_FOUND)', (c) => c, () => ({}))
  act(
    'force-response',
    'answer the next AsyncNotify with this response (default: an empty ERROR_SUCCESS)',
    (c) => c.option('--witness-forced-response <json>', 'e.g. {"result":0,"response":{"type":1,"messages":[{"type":255,"name":"x"}]}}'),
    (o) => forcedResponse(o.witnessForcedResponse as string | undefined),
  )
}

/** Parses Samba's forced-response JSON shape. */
function forcedResponse(text: string | undefined): object {
  if (text === undefined) return { result: 0 }
  let parsed: { result?: unknown; response?: { type?: unknown; messages?: unknown } }
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ClusterError(`bad --witness-forced-response: ${(err as Error).message}`)
  }
  const result = typeof parsed.result === 'number' ? parsed.result : 0
  const type = parsed.response?.type
  if (type === undefined) return { result }
  if (typeof type !== 'number') throw new ClusterError('response.type must be a number')
  const messages = Array.isArray(parsed.response?.messages) ? (parsed.response?.messages as unknown[]) : []
  if (type === 1) {
    return {
      result,
      messageType: 1,
      resourceChanges: messages.map((m) => {
        const msg = m as { type?: number; name?: string }
        return { changeType: msg.type ?? 0, resourceName: msg.name ?? '' }
      }),
    }
  }
  const list = (Array.isArray(messages[0]) ? messages[0] : messages) as Array<{ flags?: number; ipv4?: string; ipv6?: string }>
  return { result, messageType: type, ipAddresses: list.map((a) => ({ flags: a.flags ?? 0, ipv4: a.ipv4 ?? '', ipv6: a.ipv6 ?? '' })) }
}
