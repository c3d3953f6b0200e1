import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddShareReply as _swlab_admin_v1_AddShareReply, AddShareReply__Output as _swlab_admin_v1_AddShareReply__Output } from './swlab/admin/v1/AddShareReply.js';
import type { AddShareRequest as _swlab_admin_v1_AddShareRequest, AddShareRequest__Output as _swlab_admin_v1_AddShareRequest__Output } from './swlab/admin/v1/AddShareRequest.js';
import type { AdminClient as _swlab_admin_v1_AdminClient, AdminDefinition as _swlab_admin_v1_AdminDefinition } from './swlab/admin/v1/Admin.js';
import type { CsvSnapshotReply as _swlab_admin_v1_CsvSnapshotReply, CsvSnapshotReply__Output as _swlab_admin_v1_CsvSnapshotReply__Output } from './swlab/admin/v1/CsvSnapshotReply.js';
import type { CsvSnapshotRequest as _swlab_admin_v1_CsvSnapshotRequest, CsvSnapshotRequest__Output as _swlab_admin_v1_CsvSnapshotRequest__Output } from './swlab/admin/v1/CsvSnapshotRequest.js';
import type { FaultReply as _swlab_admin_v1_FaultReply, FaultReply__Output as _swlab_admin_v1_FaultReply__Output } from './swlab/admin/v1/FaultReply.js';
import type { FaultRequest as _swlab_admin_v1_FaultRequest, FaultRequest__Output as _swlab_admin_v1_FaultRequest__Output } from './swlab/admin/v1/FaultRequest.js';
import type { MoveCsvReply as _swlab_admin_v1_MoveCsvReply, MoveCsvReply__Output as _swlab_admin_v1_MoveCsvReply__Output } from './swlab/admin/v1/MoveCsvReply.js';
import type { MoveCsvRequest as _swlab_admin_v1_MoveCsvRequest, MoveCsvRequest__Output as _swlab_admin_v1_MoveCsvRequest__Output } from './swlab/admin/v1/MoveCsvRequest.js';
import type { NodeStatus as _swlab_admin_v1_NodeStatus, NodeStatus__Output as _swlab_admin_v1_NodeStatus__Output } from './swlab/admin/v1/NodeStatus.js';
import type { PeerLink as _swlab_admin_v1_PeerLink, PeerLink__Output as _swlab_admin_v1_PeerLink__Output } from './swlab/admin/v1/PeerLink.js';
import type { SetCsvFilesFrozenReply as _swlab_admin_v1_SetCsvFilesFrozenReply, SetCsvFilesFrozenReply__Output as _swlab_admin_v1_SetCsvFilesFrozenReply__Output } from './swlab/admin/v1/SetCsvFilesFrozenReply.js';
import type { SetCsvFilesFrozenRequest as _swlab_admin_v1_SetCsvFilesFrozenRequest, SetCsvFilesFrozenRequest__Output as _swlab_admin_v1_SetCsvFilesFrozenRequest__Output } from './swlab/admin/v1/SetCsvFilesFrozenRequest.js';
import type { SetCsvRedirectedRequest as _swlab_admin_v1_SetCsvRedirectedRequest, SetCsvRedirectedRequest__Output as _swlab_admin_v1_SetCsvRedirectedRequest__Output } from './swlab/admin/v1/SetCsvRedirectedRequest.js';
import type { StatusRequest as _swlab_admin_v1_StatusRequest, StatusRequest__Output as _swlab_admin_v1_StatusRequest__Output } from './swlab/admin/v1/StatusRequest.js';
import type { StopReply as _swlab_admin_v1_StopReply, StopReply__Output as _swlab_admin_v1_StopReply__Output } from './swlab/admin/v1/StopReply.js';
import type { StopRequest as _swlab_admin_v1_StopRequest, StopRequest__Output as _swlab_admin_v1_StopRequest__Output } from './swlab/admin/v1/StopRequest.js';
import type { WitnessActionReply as _swlab_admin_v1_WitnessActionReply, WitnessActionReply__Output as _swlab_admin_v1_WitnessActionReply__Output } from './swlab/admin/v1/WitnessActionReply.js';
import type { WitnessActionRequest as _swlab_admin_v1_WitnessActionRequest, WitnessActionRequest__Output as _swlab_admin_v1_WitnessActionRequest__Output } from './swlab/admin/v1/WitnessActionRequest.js';
import type { WitnessFilter as _swlab_admin_v1_WitnessFilter, WitnessFilter__Output as _swlab_admin_v1_WitnessFilter__Output } from './swlab/admin/v1/WitnessFilter.js';
import type { WitnessListReply as _swlab_admin_v1_WitnessListReply, WitnessListReply__Output as _swlab_admin_v1_WitnessListReply__Output } from './swlab/admin/v1/WitnessListReply.js';
import type { WitnessListRequest as _swlab_admin_v1_WitnessListRequest, WitnessListRequest__Output as _swlab_admin_v1_WitnessListRequest__Output } from './swlab/admin/v1/WitnessListRequest.js';
import type { WitnessRegistration as _swlab_admin_v1_WitnessRegistration, WitnessRegistration__Output as _swlab_admin_v1_WitnessRegistration__Output } from './swlab/admin/v1/WitnessRegistration.js';
import type { CsvOwner as _swlab_peer_v1_CsvOwner, CsvOwner__Output as _swlab_peer_v1_CsvOwner__Output } from './swlab/peer/v1/CsvOwner.js';
import type { DeliverAck as _swlab_peer_v1_DeliverAck, DeliverAck__Output as _swlab_peer_v1_DeliverAck__Output } from './swlab/peer/v1/DeliverAck.js';
import type { Envelope as _swlab_peer_v1_Envelope, Envelope__Output as _swlab_peer_v1_Envelope__Output } from './swlab/peer/v1/Envelope.js';
import type { Heartbeat as _swlab_peer_v1_Heartbeat, Heartbeat__Output as _swlab_peer_v1_Heartbeat__Output } from './swlab/peer/v1/Heartbeat.js';
import type { HeartbeatReply as _swlab_peer_v1_HeartbeatReply, HeartbeatReply__Output as _swlab_peer_v1_HeartbeatReply__Output } from './swlab/peer/v1/HeartbeatReply.js';
import type { Member as _swlab_peer_v1_Member, Member__Output as _swlab_peer_v1_Member__Output } from './swlab/peer/v1/Member.js';
import type { PeerClient as _swlab_peer_v1_PeerClient, PeerDefinition as _swlab_peer_v1_PeerDefinition } from './swlab/peer/v1/Peer.js';
import type { SmbDisconnectRequest as _swlab_peer_v1_SmbDisconnectRequest, SmbDisconnectRequest__Output as _swlab_peer_v1_SmbDisconnectRequest__Output } from './swlab/peer/v1/SmbDisconnectRequest.js';
import type { SmbForwardReply as _swlab_peer_v1_SmbForwardReply, SmbForwardReply__Output as _swlab_peer_v1_SmbForwardReply__Output } from './swlab/peer/v1/SmbForwardReply.js';
import type { SmbForwardRequest as _swlab_peer_v1_SmbForwardRequest, SmbForwardRequest__Output as _swlab_peer_v1_SmbForwardRequest__Output } from './swlab/peer/v1/SmbForwardRequest.js';
import type { View as _swlab_peer_v1_View, View__Output as _swlab_peer_v1_View__Output } from './swlab/peer/v1/View.js';
import type { VoteReply as _swlab_peer_v1_VoteReply, VoteReply__Output as _swlab_peer_v1_VoteReply__Output } from './swlab/peer/v1/VoteReply.js';
import type { VoteRequest as _swlab_peer_v1_VoteRequest, VoteRequest__Output as _swlab_peer_v1_VoteRequest__Output } from './swlab/peer/v1/VoteRequest.js';
import type { AsyncNotifyReply as _swlab_witness_v1_AsyncNotifyReply, AsyncNotifyReply__Output as _swlab_witness_v1_AsyncNotifyReply__Output } from './swlab/witness/v1/AsyncNotifyReply.js';
import type { AsyncNotifyRequest as _swlab_witness_v1_AsyncNotifyRequest, AsyncNotifyRequest__Output as _swlab_witness_v1_AsyncNotifyRequest__Output } from './swlab/witness/v1/AsyncNotifyRequest.js';
import type { ContextHandle as _swlab_witness_v1_ContextHandle, ContextHandle__Output as _swlab_witness_v1_ContextHandle__Output } from './swlab/witness/v1/ContextHandle.js';
import type { GetInterfaceListReply as _swlab_witness_v1_GetInterfaceListReply, GetInterfaceListReply__Output as _swlab_witness_v1_GetInterfaceListReply__Output } from './swlab/witness/v1/GetInterfaceListReply.js';
import type { GetInterfaceListRequest as _swlab_witness_v1_GetInterfaceListRequest, GetInterfaceListRequest__Output as _swlab_witness_v1_GetInterfaceListRequest__Output } from './swlab/witness/v1/GetInterfaceListRequest.js';
import type { InterfaceInfo as _swlab_witness_v1_InterfaceInfo, InterfaceInfo__Output as _swlab_witness_v1_InterfaceInfo__Output } from './swlab/witness/v1/InterfaceInfo.js';
import type { IpAddrInfo as _swlab_witness_v1_IpAddrInfo, IpAddrInfo__Output as _swlab_witness_v1_IpAddrInfo__Output } from './swlab/witness/v1/IpAddrInfo.js';
import type { RegisterExRequest as _swlab_witness_v1_RegisterExRequest, RegisterExRequest__Output as _swlab_witness_v1_RegisterExRequest__Output } from './swlab/witness/v1/RegisterExRequest.js';
import type { RegisterReply as _swlab_witness_v1_RegisterReply, RegisterReply__Output as _swlab_witness_v1_RegisterReply__Output } from './swlab/witness/v1/RegisterReply.js';
import type { RegisterRequest as _swlab_witness_v1_RegisterRequest, RegisterRequest__Output as _swlab_witness_v1_RegisterRequest__Output } from './swlab/witness/v1/RegisterRequest.js';
import type { ResourceChange as _swlab_witness_v1_ResourceChange, ResourceChange__Output as _swlab_witness_v1_ResourceChange__Output } from './swlab/witness/v1/ResourceChange.js';
import type { UnRegisterReply as _swlab_witness_v1_UnRegisterReply, UnRegisterReply__Output as _swlab_witness_v1_UnRegisterReply__Output } from './swlab/witness/v1/UnRegisterReply.js';
import type { UnRegisterRequest as _swlab_witness_v1_UnRegisterRequest, UnRegisterRequest__Output as _swlab_witness_v1_UnRegisterRequest__Output } from './swlab/witness/v1/UnRegisterRequest.js';
import type { WitnessClient as _swlab_witness_v1_WitnessClient, WitnessDefinition as _swlab_witness_v1_WitnessDefinition } from './swlab/witness/v1/Witness.js';
import type { WitnessResult as _swlab_witness_v1_WitnessResult, WitnessResult__Output as _swlab_witness_v1_WitnessResult__Output } from './swlab/witness/v1/WitnessResult.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  swlab: {
    admin: {
      v1: {
        AddShareReply: MessageTypeDefinition<_swlab_admin_v1_AddShareReply, _swlab_admin_v1_AddShareReply__Output>
        AddShareRequest: MessageTypeDefinition<_swlab_admin_v1_AddShareRequest, _swlab_admin_v1_AddShareRequest__Output>
        Admin: SubtypeConstructor<typeof grpc.Client, _swlab_admin_v1_AdminClient> & { service: _swlab_admin_v1_AdminDefinition }
        CsvSnapshotReply: MessageTypeDefinition<_swlab_admin_v1_CsvSnapshotReply, _swlab_admin_v1_CsvSnapshotReply__Output>
        CsvSnapshotRequest: MessageTypeDefinition<_swlab_admin_v1_CsvSnapshotRequest, _swlab_admin_v1_CsvSnapshotRequest__Output>
        FaultReply: MessageTypeDefinition<_swlab_admin_v1_FaultReply, _swlab_admin_v1_FaultReply__Output>
        FaultRequest: MessageTypeDefinition<_swlab_admin_v1_FaultRequest, _swlab_admin_v1_FaultRequest__Output>
        MoveCsvReply: MessageTypeDefinition<_swlab_admin_v1_MoveCsvReply, _swlab_admin_v1_MoveCsvReply__Output>
        MoveCsvRequest: MessageTypeDefinition<_swlab_admin_v1_MoveCsvRequest, _swlab_admin_v1_MoveCsvRequest__Output>
        NodeStatus: MessageTypeDefinition<_swlab_admin_v1_NodeStatus, _swlab_admin_v1_NodeStatus__Output>
        PeerLink: MessageTypeDefinition<_swlab_admin_v1_PeerLink, _swlab_admin_v1_PeerLink__Output>
        SetCsvFilesFrozenReply: MessageTypeDefinition<_swlab_admin_v1_SetCsvFilesFrozenReply, _swlab_admin_v1_SetCsvFilesFrozenReply__Output>
        SetCsvFilesFrozenRequest: MessageTypeDefinition<_swlab_admin_v1_SetCsvFilesFrozenRequest, _swlab_admin_v1_SetCsvFilesFrozenRequest__Output>
        SetCsvRedirectedRequest: MessageTypeDefinition<_swlab_admin_v1_SetCsvRedirectedRequest, _swlab_admin_v1_SetCsvRedirectedRequest__Output>
        StatusRequest: MessageTypeDefinition<_swlab_admin_v1_StatusRequest, _swlab_admin_v1_StatusRequest__Output>
        StopReply: MessageTypeDefinition<_swlab_admin_v1_StopReply, _swlab_admin_v1_StopReply__Output>
        StopRequest: MessageTypeDefinition<_swlab_admin_v1_StopRequest, _swlab_admin_v1_StopRequest__Output>
        WitnessActionReply: MessageTypeDefinition<_swlab_admin_v1_WitnessActionReply, _swlab_admin_v1_WitnessActionReply__Output>
        WitnessActionRequest: MessageTypeDefinition<_swlab_admin_v1_WitnessActionRequest, _swlab_admin_v1_WitnessActionRequest__Output>
        WitnessFilter: MessageTypeDefinition<_swlab_admin_v1_WitnessFilter, _swlab_admin_v1_WitnessFilter__Output>
        WitnessListReply: MessageTypeDefinition<_swlab_admin_v1_WitnessListReply, _swlab_admin_v1_WitnessListReply__Output>
        WitnessListRequest: MessageTypeDefinition<_swlab_admin_v1_WitnessListRequest, _swlab_admin_v1_WitnessListRequest__Output>
        WitnessRegistration: MessageTypeDefinition<_swlab_admin_v1_WitnessRegistration, _swlab_admin_v1_WitnessRegistration__Output>
      }
    }
    peer: {
      v1: {
        CsvOwner: MessageTypeDefinition<_swlab_peer_v1_CsvOwner, _swlab_peer_v1_CsvOwner__Output>
        DeliverAck: MessageTypeDefinition<_swlab_peer_v1_DeliverAck, _swlab_peer_v1_DeliverAck__Output>
        Envelope: MessageTypeDefinition<_swlab_peer_v1_Envelope, _swlab_peer_v1_Envelope__Output>
        Heartbeat: MessageTypeDefinition<_swlab_peer_v1_Heartbeat, _swlab_peer_v1_Heartbeat__Output>
        HeartbeatReply: MessageTypeDefinition<_swlab_peer_v1_HeartbeatReply, _swlab_peer_v1_HeartbeatReply__Output>
        Member: MessageTypeDefinition<_swlab_peer_v1_Member, _swlab_peer_v1_Member__Output>
        Peer: SubtypeConstructor<typeof grpc.Client, _swlab_peer_v1_PeerClient> & { service: _swlab_peer_v1_PeerDefinition }
        SmbDisconnectRequest: MessageTypeDefinition<_swlab_peer_v1_SmbDisconnectRequest, _swlab_peer_v1_SmbDisconnectRequest__Output>
        SmbForwardReply: MessageTypeDefinition<_swlab_peer_v1_SmbForwardReply, _swlab_peer_v1_SmbForwardReply__Output>
        SmbForwardRequest: MessageTypeDefinition<_swlab_peer_v1_SmbForwardRequest, _swlab_peer_v1_SmbForwardRequest__Output>
        View: MessageTypeDefinition<_swlab_peer_v1_View, _swlab_peer_v1_View__Output>
        VoteReply: MessageTypeDefinition<_swlab_peer_v1_VoteReply, _swlab_peer_v1_VoteReply__Output>
        VoteRequest: MessageTypeDefinition<_swlab_peer_v1_VoteRequest, _swlab_peer_v1_VoteRequest__Output>
      }
    }
    witness: {
      v1: {
        AsyncNotifyReply: MessageTypeDefinition<_swlab_witness_v1_AsyncNotifyReply, _swlab_witness_v1_AsyncNotifyReply__Output>
        AsyncNotifyRequest: MessageTypeDefinition<_swlab_witness_v1_AsyncNotifyRequest, _swlab_witness_v1_AsyncNotifyRequest__Output>
        ContextHandle: MessageTypeDefinition<_swlab_witness_v1_ContextHandle, _swlab_witness_v1_ContextHandle__Output>
        GetInterfaceListReply: MessageTypeDefinition<_swlab_witness_v1_GetInterfaceListReply, _swlab_witness_v1_GetInterfaceListReply__Output>
        GetInterfaceListRequest: MessageTypeDefinition<_swlab_witness_v1_GetInterfaceListRequest, _swlab_witness_v1_GetInterfaceListRequest__Output>
        InterfaceInfo: MessageTypeDefinition<_swlab_witness_v1_InterfaceInfo, _swlab_witness_v1_InterfaceInfo__Output>
        IpAddrInfo: MessageTypeDefinition<_swlab_witness_v1_IpAddrInfo, _swlab_witness_v1_IpAddrInfo__Output>
        RegisterExRequest: MessageTypeDefinition<_swlab_witness_v1_RegisterExRequest, _swlab_witness_v1_RegisterExRequest__Output>
        RegisterReply: MessageTypeDefinition<_swlab_witness_v1_RegisterReply, _swlab_witness_v1_RegisterReply__Output>
        RegisterRequest: MessageTypeDefinition<_swlab_witness_v1_RegisterRequest, _swlab_witness_v1_RegisterRequest__Output>
        ResourceChange: MessageTypeDefinition<_swlab_witness_v1_ResourceChange, _swlab_witness_v1_ResourceChange__Output>
        UnRegisterReply: MessageTypeDefinition<_swlab_witness_v1_UnRegisterReply, _swlab_witness_v1_UnRegisterReply__Output>
        UnRegisterRequest: MessageTypeDefinition<_swlab_witness_v1_UnRegisterRequest, _swlab_witness_v1_UnRegisterRequest__Output>
        Witness: SubtypeConstructor<typeof grpc.Client, _swlab_witness_v1_WitnessClient> & { service: _swlab_witness_v1_WitnessDefinition }
        WitnessResult: MessageTypeDefinition<_swlab_witness_v1_WitnessResult, _swlab_witness_v1_WitnessResult__Output>
      }
    }
  }
}

