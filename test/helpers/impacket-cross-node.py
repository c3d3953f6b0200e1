#!/usr/bin/python3
# impacket (Debian python3-impacket 0.10.0, its SMB3 class) keeping a persistent handle across the
# death of the node it used (issue 15, acceptance). Driven over stdin/stdout by
# test/conformance-wire/impacket-cross-node.test.ts: one JSON command per line in, one JSON line
# out per command, so that the test can kill the node (SIGKILL) while this process still holds
# its connection, as a real client would.
#
#   /usr/bin/python3 impacket-cross-node.py --user U --password W --share S --file NAME
#
# Commands ({"cmd": ..., "host": ..., "port": ...}):
#   open       connect, log in, open NAME with a persistent DH2Q, write random bytes
#   reconnect  a new connection with the same ClientGuid, SESSION_SETUP with PreviousSessionId
#              (the session of "open"), tree connect
#   reclaim    DH2C on the reconnected session: read the bytes back, write more, read those back
#   probe      another client (its own ClientGuid) tries to open NAME; answers the NTSTATUS
#   close      close the reclaimed handle and log off
#
# impacket has no persistent-handle API: the DH2Q/DH2C contexts are built here from its
# structures, and its requests are adjusted on their way out (a subclass of SMB3): the NEGOTIATE
# offers SMB2_GLOBAL_CAP_PERSISTENT_HANDLES with a ClientGuid kept across connections (MS-SMB2
# 3.2.4.2.2.2), the SESSION_SETUP carries PreviousSessionId (3.2.4.2.3). Dialect 3.0.2: impacket
# 0.10.0's NTLM login at 3.1.1 starts its preauth hash from zeros (tools/smb-conformance/
# impacket-cases.py), and 3.0.2 is the dialect the existing impacket conformance case uses.
import argparse
import json
import os
import sys
import time
import traceback
import uuid

try:
    from impacket import nt_errors
    from impacket import smb3
    from impacket import smb3structs as s3
except ImportError as e:  # pragma: no cover - reported to the caller
    print(json.dumps({'ok': False, 'error': 'impacket is not installed (apt-get install python3-impacket): %s' % e}), flush=True)
    sys.exit(3)

DH2Q = b'DH2Q'
DH2C = b'DH2C'
DATA_BYTES = 64 * 1024


def status_name(code):
    name = nt_errors.ERROR_MESSAGES.get(code)
    return name[0] if name else '0x%08x' % code


def error_of(e):
    if isinstance(e, smb3.SessionError):
        return status_name(e.get_error_code())
    return '%s: %s' % (type(e).__name__, e)


class CaClient(smb3.SMB3):
    """SMB3 at 3.0.2 offering persistent handles, with a fixed ClientGuid and a PreviousSessionId."""

    def __init__(self, host, port, client_guid, previous_session_id=0, timeout=30):
        self.fixed_client_guid = client_guid
        self.previous_session_id = previous_session_id
        self.last_answer = None
        smb3.SMB3.__init__(self, host, host, sess_port=port, preferredDialect=s3.SMB2_DIALECT_302, timeout=timeout)

    def sendSMB(self, packet):
        if packet['Command'] == s3.SMB2_NEGOTIATE:
            packet['Data']['ClientGuid'] = self.fixed_client_guid
            packet['Data']['Capabilities'] = packet['Data']['Capabilities'] | s3.SMB2_GLOBAL_CAP_PERSISTENT_HANDLES
        elif packet['Command'] == s3.SMB2_SESSION_SETUP and self.previous_session_id:
            packet['Data']['PreviousSessionId'] = self.previous_session_id
        return smb3.SMB3.sendSMB(self, packet)

    def recvSMB(self, packetID=None):
        answer = smb3.SMB3.recvSMB(self, packetID)
        self.last_answer = answer
        return answer

    def session_id(self):
        return self._Session['SessionID']


def create_context(name, data):
    """One SMB2_CREATE_CONTEXT (MS-SMB2 2.2.13.2): the 4-byte name at 16, the data 8-aligned at 24."""
    ctx = s3.SMB2CreateContext()
    ctx['Next'] = 0
    ctx['NameOffset'] = 16
    ctx['NameLength'] = len(name)
    ctx['Reserved'] = 0
    ctx['DataOffset'] = 24
    ctx['DataLength'] = len(data)
    ctx['Buffer'] = name + b'\x00' * 4 + data
    return ctx


def response_contexts(answer):
    """The create contexts of a CREATE response, by name."""
    body = answer['Data']
    response = s3.SMB2Create_Response(body)
    offset, length = response['CreateContextsOffset'], response['CreateContextsLength']
    found = {}
    if offset == 0 or length == 0:
        return found
    raw = body[offset - 64:offset - 64 + length]
    at = 0
    while at + 16 <= len(raw):
        nxt = int.from_bytes(raw[at:at + 4], 'little')
        name_at, name_len = int.from_bytes(raw[at + 4:at + 6], 'little'), int.from_bytes(raw[at + 6:at + 8], 'little')
        data_at, data_len = int.from_bytes(raw[at + 10:at + 12], 'little'), int.from_bytes(raw[at + 12:at + 16], 'little')
        found[bytes(raw[at + name_at:at + name_at + name_len])] = bytes(raw[at + data_at:at + data_at + data_len])
        if nxt == 0:
            break
        at += nxt
    return found


class Script:
    def __init__(self, args):
        self.args = args
        self.client_guid = uuid.uuid4().bytes
        self.create_guid = uuid.uuid4().bytes
        self.data = os.urandom(DATA_BYTES)
        self.first = None
        self.first_tree = None
        self.file_id = None
        self.second = None
        self.tree = None
        self.reclaimed = None

    def connect(self, cmd, previous=0, client_guid=None):
        conn = CaClient(cmd['host'], int(cmd['port']), client_guid or self.client_guid, previous)
        conn.login(self.args.user, self.args.password)
        return conn, conn.connectTree(self.args.share)

    def open(self, cmd):
        self.first, self.first_tree = self.connect(cmd)
        request = s3.SMB2_CREATE_DURABLE_HANDLE_REQUEST_V2()
        request['Timeout'] = int(cmd.get('timeoutMs', 120000))
        request['Flags'] = s3.SMB2_DHANDLE_FLAG_PERSISTENT
        request['CreateGuid'] = self.create_guid
        # Share access none: the file is this client's alone while the handle lives.
        self.file_id = self.first.create(self.first_tree, self.args.file, s3.FILE_READ_DATA | s3.FILE_WRITE_DATA, 0, s3.FILE_NON_DIRECTORY_FILE,
                                         s3.FILE_OVERWRITE_IF, s3.FILE_ATTRIBUTE_NORMAL, createContexts=[create_context(DH2Q, request.getData())])
        granted = response_contexts(self.first.last_answer).get(DH2Q)
        if granted is None:
            raise Exception('no DH2Q in the CREATE response: the open is not durable')
        flags = s3.SMB2_CREATE_DURABLE_HANDLE_RESPONSE_V2(granted)['Flags']
        self.first.write(self.first_tree, self.file_id, self.data, offset=0, bytesToWrite=len(self.data))
        return {'sessionId': '%016x' % self.first.session_id(), 'dialect': '0x%04x' % self.first.getDialect(),
                'persistent': bool(flags & s3.SMB2_DHANDLE_FLAG_PERSISTENT), 'fileId': self.file_id.hex(), 'bytes': len(self.data)}

    def reconnect(self, cmd):
        started = time.monotonic()
        self.second, self.tree = self.connect(cmd, previous=self.first.session_id())
        return {'sessionId': '%016x' % self.second.session_id(), 'previousSessionId': '%016x' % self.first.session_id(),
                'ms': round((time.monotonic() - started) * 1000)}

    def reclaim(self, cmd):
        request = s3.SMB2_CREATE_DURABLE_HANDLE_RECONNECT_V2()
        request['FileID'] = s3.SMB2_FILEID(self.file_id)
        request['CreateGuid'] = self.create_guid
        request['Flags'] = s3.SMB2_DHANDLE_FLAG_PERSISTENT
        # MS-SMB2 3.2.4.4: the reconnect repeats the open's access and share mode.
        self.reclaimed = self.second.create(self.tree, self.args.file, s3.FILE_READ_DATA | s3.FILE_WRITE_DATA, 0, s3.FILE_NON_DIRECTORY_FILE,
                                            s3.FILE_OPEN, s3.FILE_ATTRIBUTE_NORMAL, createContexts=[create_context(DH2C, request.getData())])
        back = self.second.read(self.tree, self.reclaimed, offset=0, bytesToRead=len(self.data))
        more = os.urandom(4096)
        self.second.write(self.tree, self.reclaimed, more, offset=len(self.data), bytesToWrite=len(more))
        again = self.second.read(self.tree, self.reclaimed, offset=len(self.data), bytesToRead=len(more))
        return {'fileId': self.reclaimed.hex(), 'samePersistentId': self.reclaimed[:8] == self.file_id[:8],
                'sameBytes': bytes(back) == self.data, 'readBytes': len(back), 'wroteAgain': bytes(again) == more}

    def probe(self, cmd):
        conn, tree = self.connect(cmd, client_guid=uuid.uuid4().bytes)
        try:
            try:
                fid = conn.create(tree, self.args.file, s3.FILE_READ_DATA, s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE, s3.FILE_NON_DIRECTORY_FILE,
                                  s3.FILE_OPEN, s3.FILE_ATTRIBUTE_NORMAL)
                conn.close(tree, fid)
                return {'status': 'STATUS_SUCCESS'}
            except smb3.SessionError as e:
                return {'status': error_of(e)}
        finally:
            try:
                conn.logoff()
            except Exception:
                pass

    def close(self, cmd):
        self.second.close(self.tree, self.reclaimed)
        self.second.logoff()
        return {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--user', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument('--share', required=True)
    parser.add_argument('--file', required=True)
    args = parser.parse_args()
    script = Script(args)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        cmd = json.loads(line)
        if cmd['cmd'] == 'quit':
            break
        try:
            result = {'ok': True, 'cmd': cmd['cmd']}
            result.update(getattr(script, cmd['cmd'])(cmd))
        except Exception as e:
            result = {'ok': False, 'cmd': cmd['cmd'], 'error': error_of(e), 'trace': traceback.format_exc()}
        print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
