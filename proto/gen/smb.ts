import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CreateReply as _swlab_smb_v1_CreateReply, CreateReply__Output as _swlab_smb_v1_CreateReply__Output } from './swlab/smb/v1/CreateReply.js';
import type { CreateRequest as _swlab_smb_v1_CreateRequest, CreateRequest__Output as _swlab_smb_v1_CreateRequest__Output } from './swlab/smb/v1/CreateRequest.js';
import type { DirectoryEntry as _swlab_smb_v1_DirectoryEntry, DirectoryEntry__Output as _swlab_smb_v1_DirectoryEntry__Output } from './swlab/smb/v1/DirectoryEntry.js';
import type { DurableReconnectV2 as _swlab_smb_v1_DurableReconnectV2, DurableReconnectV2__Output as _swlab_smb_v1_DurableReconnectV2__Output } from './swlab/smb/v1/DurableReconnectV2.js';
import type { DurableRequestV2 as _swlab_smb_v1_DurableRequestV2, DurableRequestV2__Output as _swlab_smb_v1_DurableRequestV2__Output } from './swlab/smb/v1/DurableRequestV2.js';
import type { EchoRequest as _swlab_smb_v1_EchoRequest, EchoRequest__Output as _swlab_smb_v1_EchoRequest__Output } from './swlab/smb/v1/EchoRequest.js';
import type { FileId as _swlab_smb_v1_FileId, FileId__Output as _swlab_smb_v1_FileId__Output } from './swlab/smb/v1/FileId.js';
import type { HandleRequest as _swlab_smb_v1_HandleRequest, HandleRequest__Output as _swlab_smb_v1_HandleRequest__Output } from './swlab/smb/v1/HandleRequest.js';
import type { Header as _swlab_smb_v1_Header, Header__Output as _swlab_smb_v1_Header__Output } from './swlab/smb/v1/Header.js';
import type { NegotiateReply as _swlab_smb_v1_NegotiateReply, NegotiateReply__Output as _swlab_smb_v1_NegotiateReply__Output } from './swlab/smb/v1/NegotiateReply.js';
import type { NegotiateRequest as _swlab_smb_v1_NegotiateRequest, NegotiateRequest__Output as _swlab_smb_v1_NegotiateRequest__Output } from './swlab/smb/v1/NegotiateRequest.js';
import type { NtStatus as _swlab_smb_v1_NtStatus, NtStatus__Output as _swlab_smb_v1_NtStatus__Output } from './swlab/smb/v1/NtStatus.js';
import type { QueryDirectoryReply as _swlab_smb_v1_QueryDirectoryReply, QueryDirectoryReply__Output as _swlab_smb_v1_QueryDirectoryReply__Output } from './swlab/smb/v1/QueryDirectoryReply.js';
import type { QueryDirectoryRequest as _swlab_smb_v1_QueryDirectoryRequest, QueryDirectoryRequest__Output as _swlab_smb_v1_QueryDirectoryRequest__Output } from './swlab/smb/v1/QueryDirectoryRequest.js';
import type { QueryInfoReply as _swlab_smb_v1_QueryInfoReply, QueryInfoReply__Output as _swlab_smb_v1_QueryInfoReply__Output } from './swlab/smb/v1/QueryInfoReply.js';
import type { ReadReply as _swlab_smb_v1_ReadReply, ReadReply__Output as _swlab_smb_v1_ReadReply__Output } from './swlab/smb/v1/ReadReply.js';
import type { ReadRequest as _swlab_smb_v1_ReadRequest, ReadRequest__Output as _swlab_smb_v1_ReadRequest__Output } from './swlab/smb/v1/ReadRequest.js';
import type { SessionRequest as _swlab_smb_v1_SessionRequest, SessionRequest__Output as _swlab_smb_v1_SessionRequest__Output } from './swlab/smb/v1/SessionRequest.js';
import type { SessionSetupReply as _swlab_smb_v1_SessionSetupReply, SessionSetupReply__Output as _swlab_smb_v1_SessionSetupReply__Output } from './swlab/smb/v1/SessionSetupReply.js';
import type { SessionSetupRequest as _swlab_smb_v1_SessionSetupRequest, SessionSetupRequest__Output as _swlab_smb_v1_SessionSetupRequest__Output } from './swlab/smb/v1/SessionSetupRequest.js';
import type { SetInfoRequest as _swlab_smb_v1_SetInfoRequest, SetInfoRequest__Output as _swlab_smb_v1_SetInfoRequest__Output } from './swlab/smb/v1/SetInfoRequest.js';
import type { SmbClient as _swlab_smb_v1_SmbClient, SmbDefinition as _swlab_smb_v1_SmbDefinition } from './swlab/smb/v1/Smb.js';
import type { StatusReply as _swlab_smb_v1_StatusReply, StatusReply__Output as _swlab_smb_v1_StatusReply__Output } from './swlab/smb/v1/StatusReply.js';
import type { TreeConnectReply as _swlab_smb_v1_TreeConnectReply, TreeConnectReply__Output as _swlab_smb_v1_TreeConnectReply__Output } from './swlab/smb/v1/TreeConnectReply.js';
import type { TreeConnectRequest as _swlab_smb_v1_TreeConnectRequest, TreeConnectRequest__Output as _swlab_smb_v1_TreeConnectRequest__Output } from './swlab/smb/v1/TreeConnectRequest.js';
import type { WriteReply as _swlab_smb_v1_WriteReply, WriteReply__Output as _swlab_smb_v1_WriteReply__Output } from './swlab/smb/v1/WriteReply.js';
import type { WriteRequest as _swlab_smb_v1_WriteRequest, WriteRequest__Output as _swlab_smb_v1_WriteRequest__Output } from './swlab/smb/v1/WriteRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  swlab: {
    smb: {
      v1: {
        CreateReply: MessageTypeDefinition<_swlab_smb_v1_CreateReply, _swlab_smb_v1_CreateReply__Output>
        CreateRequest: MessageTypeDefinition<_swlab_smb_v1_CreateRequest, _swlab_smb_v1_CreateRequest__Output>
        DirectoryEntry: MessageTypeDefinition<_swlab_smb_v1_DirectoryEntry, _swlab_smb_v1_DirectoryEntry__Output>
        DurableReconnectV2: MessageTypeDefinition<_swlab_smb_v1_DurableReconnectV2, _swlab_smb_v1_DurableReconnectV2__Output>
        DurableRequestV2: MessageTypeDefinition<_swlab_smb_v1_DurableRequestV2, _swlab_smb_v1_DurableRequestV2__Output>
        EchoRequest: MessageTypeDefinition<_swlab_smb_v1_EchoRequest, _swlab_smb_v1_EchoRequest__Output>
        FileId: MessageTypeDefinition<_swlab_smb_v1_FileId, _swlab_smb_v1_FileId__Output>
        HandleRequest: MessageTypeDefinition<_swlab_smb_v1_HandleRequest, _swlab_smb_v1_HandleRequest__Output>
        Header: MessageTypeDefinition<_swlab_smb_v1_Header, _swlab_smb_v1_Header__Output>
        NegotiateReply: MessageTypeDefinition<_swlab_smb_v1_NegotiateReply, _swlab_smb_v1_NegotiateReply__Output>
        NegotiateRequest: MessageTypeDefinition<_swlab_smb_v1_NegotiateRequest, _swlab_smb_v1_NegotiateRequest__Output>
        NtStatus: MessageTypeDefinition<_swlab_smb_v1_NtStatus, _swlab_smb_v1_NtStatus__Output>
        QueryDirectoryReply: MessageTypeDefinition<_swlab_smb_v1_QueryDirectoryReply, _swlab_smb_v1_QueryDirectoryReply__Output>
        QueryDirectoryRequest: MessageTypeDefinition<_swlab_smb_v1_QueryDirectoryRequest, _swlab_smb_v1_QueryDirectoryRequest__Output>
        QueryInfoReply: MessageTypeDefinition<_swlab_smb_v1_QueryInfoReply, _swlab_smb_v1_QueryInfoReply__Output>
        ReadReply: MessageTypeDefinition<_swlab_smb_v1_ReadReply, _swlab_smb_v1_ReadReply__Output>
        ReadRequest: MessageTypeDefinition<_swlab_smb_v1_ReadRequest, _swlab_smb_v1_ReadRequest__Output>
        SessionRequest: MessageTypeDefinition<_swlab_smb_v1_SessionRequest, _swlab_smb_v1_SessionRequest__Output>
        SessionSetupReply: MessageTypeDefinition<_swlab_smb_v1_SessionSetupReply, _swlab_smb_v1_SessionSetupReply__Output>
        SessionSetupRequest: MessageTypeDefinition<_swlab_smb_v1_SessionSetupRequest, _swlab_smb_v1_SessionSetupRequest__Output>
        SetInfoRequest: MessageTypeDefinition<_swlab_smb_v1_SetInfoRequest, _swlab_smb_v1_SetInfoRequest__Output>
        Smb: SubtypeConstructor<typeof grpc.Client, _swlab_smb_v1_SmbClient> & { service: _swlab_smb_v1_SmbDefinition }
        StatusReply: MessageTypeDefinition<_swlab_smb_v1_StatusReply, _swlab_smb_v1_StatusReply__Output>
        TreeConnectReply: MessageTypeDefinition<_swlab_smb_v1_TreeConnectReply, _swlab_smb_v1_TreeConnectReply__Output>
        TreeConnectRequest: MessageTypeDefinition<_swlab_smb_v1_TreeConnectRequest, _swlab_smb_v1_TreeConnectRequest__Output>
        WriteReply: MessageTypeDefinition<_swlab_smb_v1_WriteReply, _swlab_smb_v1_WriteReply__Output>
        WriteRequest: MessageTypeDefinition<_swlab_smb_v1_WriteRequest, _swlab_smb_v1_WriteRequest__Output>
      }
    }
  }
}

