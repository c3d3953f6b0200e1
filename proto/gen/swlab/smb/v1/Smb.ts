// Original file: /work/main/proto/smb.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateReply as _swlab_smb_v1_CreateReply, CreateReply__Output as _swlab_smb_v1_CreateReply__Output } from '../../../swlab/smb/v1/CreateReply.js';
import type { CreateRequest as _swlab_smb_v1_CreateRequest, CreateRequest__Output as _swlab_smb_v1_CreateRequest__Output } from '../../../swlab/smb/v1/CreateRequest.js';
import type { EchoRequest as _swlab_smb_v1_EchoRequest, EchoRequest__Output as _swlab_smb_v1_EchoRequest__Output } from '../../../swlab/smb/v1/EchoRequest.js';
import type { HandleRequest as _swlab_smb_v1_HandleRequest, HandleRequest__Output as _swlab_smb_v1_HandleRequest__Output } from '../../../swlab/smb/v1/HandleRequest.js';
import type { NegotiateReply as _swlab_smb_v1_NegotiateReply, NegotiateReply__Output as _swlab_smb_v1_NegotiateReply__Output } from '../../../swlab/smb/v1/NegotiateReply.js';
import type { NegotiateRequest as _swlab_smb_v1_NegotiateRequest, NegotiateRequest__Output as _swlab_smb_v1_NegotiateRequest__Output } from '../../../swlab/smb/v1/NegotiateRequest.js';
import type { QueryDirectoryReply as _swlab_smb_v1_QueryDirectoryReply, QueryDirectoryReply__Output as _swlab_smb_v1_QueryDirectoryReply__Output } from '../../../swlab/smb/v1/QueryDirectoryReply.js';
import type { QueryDirectoryRequest as _swlab_smb_v1_QueryDirectoryRequest, QueryDirectoryRequest__Output as _swlab_smb_v1_QueryDirectoryRequest__Output } from '../../../swlab/smb/v1/QueryDirectoryRequest.js';
import type { QueryInfoReply as _swlab_smb_v1_QueryInfoReply, QueryInfoReply__Output as _swlab_smb_v1_QueryInfoReply__Output } from '../../../swlab/smb/v1/QueryInfoReply.js';
import type { ReadReply as _swlab_smb_v1_ReadReply, ReadReply__Output as _swlab_smb_v1_ReadReply__Output } from '../../../swlab/smb/v1/ReadReply.js';
import type { ReadRequest as _swlab_smb_v1_ReadRequest, ReadRequest__Output as _swlab_smb_v1_ReadRequest__Output } from '../../../swlab/smb/v1/ReadRequest.js';
import type { SessionRequest as _swlab_smb_v1_SessionRequest, SessionRequest__Output as _swlab_smb_v1_SessionRequest__Output } from '../../../swlab/smb/v1/SessionRequest.js';
import type { SessionSetupReply as _swlab_smb_v1_SessionSetupReply, SessionSetupReply__Output as _swlab_smb_v1_SessionSetupReply__Output } from '../../../swlab/smb/v1/SessionSetupReply.js';
import type { SessionSetupRequest as _swlab_smb_v1_SessionSetupRequest, SessionSetupRequest__Output as _swlab_smb_v1_SessionSetupRequest__Output } from '../../../swlab/smb/v1/SessionSetupRequest.js';
import type { SetInfoRequest as _swlab_smb_v1_SetInfoRequest, SetInfoRequest__Output as _swlab_smb_v1_SetInfoRequest__Output } from '../../../swlab/smb/v1/SetInfoRequest.js';
import type { StatusReply as _swlab_smb_v1_StatusReply, StatusReply__Output as _swlab_smb_v1_StatusReply__Output } from '../../../swlab/smb/v1/StatusReply.js';
import type { TreeConnectReply as _swlab_smb_v1_TreeConnectReply, TreeConnectReply__Output as _swlab_smb_v1_TreeConnectReply__Output } from '../../../swlab/smb/v1/TreeConnectReply.js';
import type { TreeConnectRequest as _swlab_smb_v1_TreeConnectRequest, TreeConnectRequest__Output as _swlab_smb_v1_TreeConnectRequest__Output } from '../../../swlab/smb/v1/TreeConnectRequest.js';
import type { WriteReply as _swlab_smb_v1_WriteReply, WriteReply__Output as _swlab_smb_v1_WriteReply__Output } from '../../../swlab/smb/v1/WriteReply.js';
import type { WriteRequest as _swlab_smb_v1_WriteRequest, WriteRequest__Output as _swlab_smb_v1_WriteRequest__Output } from '../../../swlab/smb/v1/WriteRequest.js';

export interface SmbClient extends grpc.Client {
  Close(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Close(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Close(argument: _swlab_smb_v1_HandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Close(argument: _swlab_smb_v1_HandleRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  Create(argument: _swlab_smb_v1_CreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  Create(argument: _swlab_smb_v1_CreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  Create(argument: _swlab_smb_v1_CreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  Create(argument: _swlab_smb_v1_CreateRequest, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  create(argument: _swlab_smb_v1_CreateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  create(argument: _swlab_smb_v1_CreateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  create(argument: _swlab_smb_v1_CreateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  create(argument: _swlab_smb_v1_CreateRequest, callback: grpc.requestCallback<_swlab_smb_v1_CreateReply__Output>): grpc.ClientUnaryCall;
  
  Echo(argument: _swlab_smb_v1_EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Echo(argument: _swlab_smb_v1_EchoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Echo(argument: _swlab_smb_v1_EchoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Echo(argument: _swlab_smb_v1_EchoRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _swlab_smb_v1_EchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _swlab_smb_v1_EchoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _swlab_smb_v1_EchoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  echo(argument: _swlab_smb_v1_EchoRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  Flush(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Flush(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Flush(argument: _swlab_smb_v1_HandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Flush(argument: _swlab_smb_v1_HandleRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  flush(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  flush(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  flush(argument: _swlab_smb_v1_HandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  flush(argument: _swlab_smb_v1_HandleRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  Logoff(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Logoff(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Logoff(argument: _swlab_smb_v1_SessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  Logoff(argument: _swlab_smb_v1_SessionRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  logoff(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  logoff(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  logoff(argument: _swlab_smb_v1_SessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  logoff(argument: _swlab_smb_v1_SessionRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  Negotiate(argument: _swlab_smb_v1_NegotiateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  Negotiate(argument: _swlab_smb_v1_NegotiateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  Negotiate(argument: _swlab_smb_v1_NegotiateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  Negotiate(argument: _swlab_smb_v1_NegotiateRequest, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  negotiate(argument: _swlab_smb_v1_NegotiateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  negotiate(argument: _swlab_smb_v1_NegotiateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  negotiate(argument: _swlab_smb_v1_NegotiateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  negotiate(argument: _swlab_smb_v1_NegotiateRequest, callback: grpc.requestCallback<_swlab_smb_v1_NegotiateReply__Output>): grpc.ClientUnaryCall;
  
  QueryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  QueryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  QueryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  QueryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  queryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  queryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  queryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  queryDirectory(argument: _swlab_smb_v1_QueryDirectoryRequest, callback: grpc.requestCallback<_swlab_smb_v1_QueryDirectoryReply__Output>): grpc.ClientUnaryCall;
  
  QueryInfo(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  QueryInfo(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  QueryInfo(argument: _swlab_smb_v1_HandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  QueryInfo(argument: _swlab_smb_v1_HandleRequest, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  queryInfo(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  queryInfo(argument: _swlab_smb_v1_HandleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  queryInfo(argument: _swlab_smb_v1_HandleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  queryInfo(argument: _swlab_smb_v1_HandleRequest, callback: grpc.requestCallback<_swlab_smb_v1_QueryInfoReply__Output>): grpc.ClientUnaryCall;
  
  Read(argument: _swlab_smb_v1_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  Read(argument: _swlab_smb_v1_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  Read(argument: _swlab_smb_v1_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  Read(argument: _swlab_smb_v1_ReadRequest, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _swlab_smb_v1_ReadRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _swlab_smb_v1_ReadRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _swlab_smb_v1_ReadRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  read(argument: _swlab_smb_v1_ReadRequest, callback: grpc.requestCallback<_swlab_smb_v1_ReadReply__Output>): grpc.ClientUnaryCall;
  
  SessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  SessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  SessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  SessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  sessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  sessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  sessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  sessionSetup(argument: _swlab_smb_v1_SessionSetupRequest, callback: grpc.requestCallback<_swlab_smb_v1_SessionSetupReply__Output>): grpc.ClientUnaryCall;
  
  SetInfo(argument: _swlab_smb_v1_SetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  SetInfo(argument: _swlab_smb_v1_SetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  SetInfo(argument: _swlab_smb_v1_SetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  SetInfo(argument: _swlab_smb_v1_SetInfoRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  setInfo(argument: _swlab_smb_v1_SetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  setInfo(argument: _swlab_smb_v1_SetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  setInfo(argument: _swlab_smb_v1_SetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  setInfo(argument: _swlab_smb_v1_SetInfoRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  TreeConnect(argument: _swlab_smb_v1_TreeConnectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  TreeConnect(argument: _swlab_smb_v1_TreeConnectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  TreeConnect(argument: _swlab_smb_v1_TreeConnectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  TreeConnect(argument: _swlab_smb_v1_TreeConnectRequest, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  treeConnect(argument: _swlab_smb_v1_TreeConnectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  treeConnect(argument: _swlab_smb_v1_TreeConnectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  treeConnect(argument: _swlab_smb_v1_TreeConnectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  treeConnect(argument: _swlab_smb_v1_TreeConnectRequest, callback: grpc.requestCallback<_swlab_smb_v1_TreeConnectReply__Output>): grpc.ClientUnaryCall;
  
  TreeDisconnect(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  TreeDisconnect(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  TreeDisconnect(argument: _swlab_smb_v1_SessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  TreeDisconnect(argument: _swlab_smb_v1_SessionRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  treeDisconnect(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  treeDisconnect(argument: _swlab_smb_v1_SessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  treeDisconnect(argument: _swlab_smb_v1_SessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  treeDisconnect(argument: _swlab_smb_v1_SessionRequest, callback: grpc.requestCallback<_swlab_smb_v1_StatusReply__Output>): grpc.ClientUnaryCall;
  
  Write(argument: _swlab_smb_v1_WriteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  Write(argument: _swlab_smb_v1_WriteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  Write(argument: _swlab_smb_v1_WriteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  Write(argument: _swlab_smb_v1_WriteRequest, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  write(argument: _swlab_smb_v1_WriteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  write(argument: _swlab_smb_v1_WriteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  write(argument: _swlab_smb_v1_WriteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  write(argument: _swlab_smb_v1_WriteRequest, callback: grpc.requestCallback<_swlab_smb_v1_WriteReply__Output>): grpc.ClientUnaryCall;
  
}

export interface SmbHandlers extends grpc.UntypedServiceImplementation {
  Close: grpc.handleUnaryCall<_swlab_smb_v1_HandleRequest__Output, _swlab_smb_v1_StatusReply>;
  
  Create: grpc.handleUnaryCall<_swlab_smb_v1_CreateRequest__Output, _swlab_smb_v1_CreateReply>;
  
  Echo: grpc.handleUnaryCall<_swlab_smb_v1_EchoRequest__Output, _swlab_smb_v1_StatusReply>;
  
  Flush: grpc.handleUnaryCall<_swlab_smb_v1_HandleRequest__Output, _swlab_smb_v1_StatusReply>;
  
  Logoff: grpc.handleUnaryCall<_swlab_smb_v1_SessionRequest__Output, _swlab_smb_v1_StatusReply>;
  
  Negotiate: grpc.handleUnaryCall<_swlab_smb_v1_NegotiateRequest__Output, _swlab_smb_v1_NegotiateReply>;
  
  QueryDirectory: grpc.handleUnaryCall<_swlab_smb_v1_QueryDirectoryRequest__Output, _swlab_smb_v1_QueryDirectoryReply>;
  
  QueryInfo: grpc.handleUnaryCall<_swlab_smb_v1_HandleRequest__Output, _swlab_smb_v1_QueryInfoReply>;
  
  Read: grpc.handleUnaryCall<_swlab_smb_v1_ReadRequest__Output, _swlab_smb_v1_ReadReply>;
  
  SessionSetup: grpc.handleUnaryCall<_swlab_smb_v1_SessionSetupRequest__Output, _swlab_smb_v1_SessionSetupReply>;
  
  SetInfo: grpc.handleUnaryCall<_swlab_smb_v1_SetInfoRequest__Output, _swlab_smb_v1_StatusReply>;
  
  TreeConnect: grpc.handleUnaryCall<_swlab_smb_v1_TreeConnectRequest__Output, _swlab_smb_v1_TreeConnectReply>;
  
  TreeDisconnect: grpc.handleUnaryCall<_swlab_smb_v1_SessionRequest__Output, _swlab_smb_v1_StatusReply>;
  
  Write: grpc.handleUnaryCall<_swlab_smb_v1_WriteRequest__Output, _swlab_smb_v1_WriteReply>;
  
}

export interface SmbDefinition extends grpc.ServiceDefinition {
  Close: MethodDefinition<_swlab_smb_v1_HandleRequest, _swlab_smb_v1_StatusReply, _swlab_smb_v1_HandleRequest__Output, _swlab_smb_v1_StatusReply__Output>
  Create: MethodDefinition<_swlab_smb_v1_CreateRequest, _swlab_smb_v1_CreateReply, _swlab_smb_v1_CreateRequest__Output, _swlab_smb_v1_CreateReply__Output>
  Echo: MethodDefinition<_swlab_smb_v1_EchoRequest, _swlab_smb_v1_StatusReply, _swlab_smb_v1_EchoRequest__Output, _swlab_smb_v1_StatusReply__Output>
  Flush: MethodDefinition<_swlab_smb_v1_HandleRequest, _swlab_smb_v1_StatusReply, _swlab_smb_v1_HandleRequest__Output, _swlab_smb_v1_StatusReply__Output>
  Logoff: MethodDefinition<_swlab_smb_v1_SessionRequest, _swlab_smb_v1_StatusReply, _swlab_smb_v1_SessionRequest__Output, _swlab_smb_v1_StatusReply__Output>
  Negotiate: MethodDefinition<_swlab_smb_v1_NegotiateRequest, _swlab_smb_v1_NegotiateReply, _swlab_smb_v1_NegotiateRequest__Output, _swlab_smb_v1_NegotiateReply__Output>
  QueryDirectory: MethodDefinition<_swlab_smb_v1_QueryDirectoryRequest, _swlab_smb_v1_QueryDirectoryReply, _swlab_smb_v1_QueryDirectoryRequest__Output, _swlab_smb_v1_QueryDirectoryReply__Output>
  QueryInfo: MethodDefinition<_swlab_smb_v1_HandleRequest, _swlab_smb_v1_QueryInfoReply, _swlab_smb_v1_HandleRequest__Output, _swlab_smb_v1_QueryInfoReply__Output>
  Read: MethodDefinition<_swlab_smb_v1_ReadRequest, _swlab_smb_v1_ReadReply, _swlab_smb_v1_ReadRequest__Output, _swlab_smb_v1_ReadReply__Output>
  SessionSetup: MethodDefinition<_swlab_smb_v1_SessionSetupRequest, _swlab_smb_v1_SessionSetupReply, _swlab_smb_v1_SessionSetupRequest__Output, _swlab_smb_v1_SessionSetupReply__Output>
  SetInfo: MethodDefinition<_swlab_smb_v1_SetInfoRequest, _swlab_smb_v1_StatusReply, _swlab_smb_v1_SetInfoRequest__Output, _swlab_smb_v1_StatusReply__Output>
  TreeConnect: MethodDefinition<_swlab_smb_v1_TreeConnectRequest, _swlab_smb_v1_TreeConnectReply, _swlab_smb_v1_TreeConnectRequest__Output, _swlab_smb_v1_TreeConnectReply__Output>
  TreeDisconnect: MethodDefinition<_swlab_smb_v1_SessionRequest, _swlab_smb_v1_StatusReply, _swlab_smb_v1_SessionRequest__Output, _swlab_smb_v1_StatusReply__Output>
  Write: MethodDefinition<_swlab_smb_v1_WriteRequest, _swlab_smb_v1_WriteReply, _swlab_smb_v1_WriteRequest__Output, _swlab_smb_v1_WriteReply__Output>
}
