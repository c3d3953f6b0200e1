// Original file: /work/main/proto/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddShareReply as _swlab_admin_v1_AddShareReply, AddShareReply__Output as _swlab_admin_v1_AddShareReply__Output } from '../../../swlab/admin/v1/AddShareReply.js';
import type { AddShareRequest as _swlab_admin_v1_AddShareRequest, AddShareRequest__Output as _swlab_admin_v1_AddShareRequest__Output } from '../../../swlab/admin/v1/AddShareRequest.js';
import type { CsvSnapshotReply as _swlab_admin_v1_CsvSnapshotReply, CsvSnapshotReply__Output as _swlab_admin_v1_CsvSnapshotReply__Output } from '../../../swlab/admin/v1/CsvSnapshotReply.js';
import type { CsvSnapshotRequest as _swlab_admin_v1_CsvSnapshotRequest, CsvSnapshotRequest__Output as _swlab_admin_v1_CsvSnapshotRequest__Output } from '../../../swlab/admin/v1/CsvSnapshotRequest.js';
import type { FaultReply as _swlab_admin_v1_FaultReply, FaultReply__Output as _swlab_admin_v1_FaultReply__Output } from '../../../swlab/admin/v1/FaultReply.js';
import type { FaultRequest as _swlab_admin_v1_FaultRequest, FaultRequest__Output as _swlab_admin_v1_FaultRequest__Output } from '../../../swlab/admin/v1/FaultRequest.js';
import type { MoveCsvReply as _swlab_admin_v1_MoveCsvReply, MoveCsvReply__Output as _swlab_admin_v1_MoveCsvReply__Output } from '../../../swlab/admin/v1/MoveCsvReply.js';
import type { MoveCsvRequest as _swlab_admin_v1_MoveCsvRequest, MoveCsvRequest__Output as _swlab_admin_v1_MoveCsvRequest__Output } from '../../../swlab/admin/v1/MoveCsvRequest.js';
import type { NodeStatus as _swlab_admin_v1_NodeStatus, NodeStatus__Output as _swlab_admin_v1_NodeStatus__Output } from '../../../swlab/admin/v1/NodeStatus.js';
import type { SetCsvFilesFrozenReply as _swlab_admin_v1_SetCsvFilesFrozenReply, SetCsvFilesFrozenReply__Output as _swlab_admin_v1_SetCsvFilesFrozenReply__Output } from '../../../swlab/admin/v1/SetCsvFilesFrozenReply.js';
import type { SetCsvFilesFrozenRequest as _swlab_admin_v1_SetCsvFilesFrozenRequest, SetCsvFilesFrozenRequest__Output as _swlab_admin_v1_SetCsvFilesFrozenRequest__Output } from '../../../swlab/admin/v1/SetCsvFilesFrozenRequest.js';
import type { SetCsvRedirectedRequest as _swlab_admin_v1_SetCsvRedirectedRequest, SetCsvRedirectedRequest__Output as _swlab_admin_v1_SetCsvRedirectedRequest__Output } from '../../../swlab/admin/v1/SetCsvRedirectedRequest.js';
import type { StatusRequest as _swlab_admin_v1_StatusRequest, StatusRequest__Output as _swlab_admin_v1_StatusRequest__Output } from '../../../swlab/admin/v1/StatusRequest.js';
import type { StopReply as _swlab_admin_v1_StopReply, StopReply__Output as _swlab_admin_v1_StopReply__Output } from '../../../swlab/admin/v1/StopReply.js';
import type { StopRequest as _swlab_admin_v1_StopRequest, StopRequest__Output as _swlab_admin_v1_StopRequest__Output } from '../../../swlab/admin/v1/StopRequest.js';
import type { WitnessActionReply as _swlab_admin_v1_WitnessActionReply, WitnessActionReply__Output as _swlab_admin_v1_WitnessActionReply__Output } from '../../../swlab/admin/v1/WitnessActionReply.js';
import type { WitnessActionRequest as _swlab_admin_v1_WitnessActionRequest, WitnessActionRequest__Output as _swlab_admin_v1_WitnessActionRequest__Output } from '../../../swlab/admin/v1/WitnessActionRequest.js';
import type { WitnessListReply as _swlab_admin_v1_WitnessListReply, WitnessListReply__Output as _swlab_admin_v1_WitnessListReply__Output } from '../../../swlab/admin/v1/WitnessListReply.js';
import type { WitnessListRequest as _swlab_admin_v1_WitnessListRequest, WitnessListRequest__Output as _swlab_admin_v1_WitnessListRequest__Output } from '../../../swlab/admin/v1/WitnessListRequest.js';

export interface AdminClient extends grpc.Client {
  AddShare(argument: _swlab_admin_v1_AddShareRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  AddShare(argument: _swlab_admin_v1_AddShareRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  AddShare(argument: _swlab_admin_v1_AddShareRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  AddShare(argument: _swlab_admin_v1_AddShareRequest, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  addShare(argument: _swlab_admin_v1_AddShareRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  addShare(argument: _swlab_admin_v1_AddShareRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  addShare(argument: _swlab_admin_v1_AddShareRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  addShare(argument: _swlab_admin_v1_AddShareRequest, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  
  CsvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  CsvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  CsvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  CsvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  csvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  csvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  csvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  csvSnapshot(argument: _swlab_admin_v1_CsvSnapshotRequest, callback: grpc.requestCallback<_swlab_admin_v1_CsvSnapshotReply__Output>): grpc.ClientUnaryCall;
  
  MoveCsv(argument: _swlab_admin_v1_MoveCsvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  MoveCsv(argument: _swlab_admin_v1_MoveCsvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  MoveCsv(argument: _swlab_admin_v1_MoveCsvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  MoveCsv(argument: _swlab_admin_v1_MoveCsvRequest, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  moveCsv(argument: _swlab_admin_v1_MoveCsvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  moveCsv(argument: _swlab_admin_v1_MoveCsvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  moveCsv(argument: _swlab_admin_v1_MoveCsvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  moveCsv(argument: _swlab_admin_v1_MoveCsvRequest, callback: grpc.requestCallback<_swlab_admin_v1_MoveCsvReply__Output>): grpc.ClientUnaryCall;
  
  SetCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  SetCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  SetCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  SetCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  setCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  setCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  setCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  setCsvFilesFrozen(argument: _swlab_admin_v1_SetCsvFilesFrozenRequest, callback: grpc.requestCallback<_swlab_admin_v1_SetCsvFilesFrozenReply__Output>): grpc.ClientUnaryCall;
  
  SetCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  SetCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  SetCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  SetCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  setCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  setCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  setCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  setCsvRedirected(argument: _swlab_admin_v1_SetCsvRedirectedRequest, callback: grpc.requestCallback<_swlab_admin_v1_AddShareReply__Output>): grpc.ClientUnaryCall;
  
  SetFaults(argument: _swlab_admin_v1_FaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  SetFaults(argument: _swlab_admin_v1_FaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  SetFaults(argument: _swlab_admin_v1_FaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  SetFaults(argument: _swlab_admin_v1_FaultRequest, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  setFaults(argument: _swlab_admin_v1_FaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  setFaults(argument: _swlab_admin_v1_FaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  setFaults(argument: _swlab_admin_v1_FaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  setFaults(argument: _swlab_admin_v1_FaultRequest, callback: grpc.requestCallback<_swlab_admin_v1_FaultReply__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _swlab_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  Status(argument: _swlab_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  Status(argument: _swlab_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  Status(argument: _swlab_admin_v1_StatusRequest, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _swlab_admin_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _swlab_admin_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _swlab_admin_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  status(argument: _swlab_admin_v1_StatusRequest, callback: grpc.requestCallback<_swlab_admin_v1_NodeStatus__Output>): grpc.ClientUnaryCall;
  
  Stop(argument: _swlab_admin_v1_StopRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  Stop(argument: _swlab_admin_v1_StopRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  Stop(argument: _swlab_admin_v1_StopRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  Stop(argument: _swlab_admin_v1_StopRequest, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  stop(argument: _swlab_admin_v1_StopRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  stop(argument: _swlab_admin_v1_StopRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  stop(argument: _swlab_admin_v1_StopRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  stop(argument: _swlab_admin_v1_StopRequest, callback: grpc.requestCallback<_swlab_admin_v1_StopReply__Output>): grpc.ClientUnaryCall;
  
  WitnessAction(argument: _swlab_admin_v1_WitnessActionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  WitnessAction(argument: _swlab_admin_v1_WitnessActionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  WitnessAction(argument: _swlab_admin_v1_WitnessActionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  WitnessAction(argument: _swlab_admin_v1_WitnessActionRequest, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  witnessAction(argument: _swlab_admin_v1_WitnessActionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  witnessAction(argument: _swlab_admin_v1_WitnessActionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  witnessAction(argument: _swlab_admin_v1_WitnessActionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  witnessAction(argument: _swlab_admin_v1_WitnessActionRequest, callback: grpc.requestCallback<_swlab_admin_v1_WitnessActionReply__Output>): grpc.ClientUnaryCall;
  
  WitnessList(argument: _swlab_admin_v1_WitnessListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  WitnessList(argument: _swlab_admin_v1_WitnessListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  WitnessList(argument: _swlab_admin_v1_WitnessListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  WitnessList(argument: _swlab_admin_v1_WitnessListRequest, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  witnessList(argument: _swlab_admin_v1_WitnessListRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  witnessList(argument: _swlab_admin_v1_WitnessListRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  witnessList(argument: _swlab_admin_v1_WitnessListRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  witnessList(argument: _swlab_admin_v1_WitnessListRequest, callback: grpc.requestCallback<_swlab_admin_v1_WitnessListReply__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  AddShare: grpc.handleUnaryCall<_swlab_admin_v1_AddShareRequest__Output, _swlab_admin_v1_AddShareReply>;
  
  CsvSnapshot: grpc.handleUnaryCall<_swlab_admin_v1_CsvSnapshotRequest__Output, _swlab_admin_v1_CsvSnapshotReply>;
  
  MoveCsv: grpc.handleUnaryCall<_swlab_admin_v1_MoveCsvRequest__Output, _swlab_admin_v1_MoveCsvReply>;
  
  SetCsvFilesFrozen: grpc.handleUnaryCall<_swlab_admin_v1_SetCsvFilesFrozenRequest__Output, _swlab_admin_v1_SetCsvFilesFrozenReply>;
  
  SetCsvRedirected: grpc.handleUnaryCall<_swlab_admin_v1_SetCsvRedirectedRequest__Output, _swlab_admin_v1_AddShareReply>;
  
  SetFaults: grpc.handleUnaryCall<_swlab_admin_v1_FaultRequest__Output, _swlab_admin_v1_FaultReply>;
  
  Status: grpc.handleUnaryCall<_swlab_admin_v1_StatusRequest__Output, _swlab_admin_v1_NodeStatus>;
  
  Stop: grpc.handleUnaryCall<_swlab_admin_v1_StopRequest__Output, _swlab_admin_v1_StopReply>;
  
  WitnessAction: grpc.handleUnaryCall<_swlab_admin_v1_WitnessActionRequest__Output, _swlab_admin_v1_WitnessActionReply>;
  
  WitnessList: grpc.handleUnaryCall<_swlab_admin_v1_WitnessListRequest__Output, _swlab_admin_v1_WitnessListReply>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  AddShare: MethodDefinition<_swlab_admin_v1_AddShareRequest, _swlab_admin_v1_AddShareReply, _swlab_admin_v1_AddShareRequest__Output, _swlab_admin_v1_AddShareReply__Output>
  CsvSnapshot: MethodDefinition<_swlab_admin_v1_CsvSnapshotRequest, _swlab_admin_v1_CsvSnapshotReply, _swlab_admin_v1_CsvSnapshotRequest__Output, _swlab_admin_v1_CsvSnapshotReply__Output>
  MoveCsv: MethodDefinition<_swlab_admin_v1_MoveCsvRequest, _swlab_admin_v1_MoveCsvReply, _swlab_admin_v1_MoveCsvRequest__Output, _swlab_admin_v1_MoveCsvReply__Output>
  SetCsvFilesFrozen: MethodDefinition<_swlab_admin_v1_SetCsvFilesFrozenRequest, _swlab_admin_v1_SetCsvFilesFrozenReply, _swlab_admin_v1_SetCsvFilesFrozenRequest__Output, _swlab_admin_v1_SetCsvFilesFrozenReply__Output>
  SetCsvRedirected: MethodDefinition<_swlab_admin_v1_SetCsvRedirectedRequest, _swlab_admin_v1_AddShareReply, _swlab_admin_v1_SetCsvRedirectedRequest__Output, _swlab_admin_v1_AddShareReply__Output>
  SetFaults: MethodDefinition<_swlab_admin_v1_FaultRequest, _swlab_admin_v1_FaultReply, _swlab_admin_v1_FaultRequest__Output, _swlab_admin_v1_FaultReply__Output>
  Status: MethodDefinition<_swlab_admin_v1_StatusRequest, _swlab_admin_v1_NodeStatus, _swlab_admin_v1_StatusRequest__Output, _swlab_admin_v1_NodeStatus__Output>
  Stop: MethodDefinition<_swlab_admin_v1_StopRequest, _swlab_admin_v1_StopReply, _swlab_admin_v1_StopRequest__Output, _swlab_admin_v1_StopReply__Output>
  WitnessAction: MethodDefinition<_swlab_admin_v1_WitnessActionRequest, _swlab_admin_v1_WitnessActionReply, _swlab_admin_v1_WitnessActionRequest__Output, _swlab_admin_v1_WitnessActionReply__Output>
  WitnessList: MethodDefinition<_swlab_admin_v1_WitnessListRequest, _swlab_admin_v1_WitnessListReply, _swlab_admin_v1_WitnessListRequest__Output, _swlab_admin_v1_WitnessListReply__Output>
}
