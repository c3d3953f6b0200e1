#!/usr/bin/python3
# impacket (Debian python3-impacket, 0.10.0) against any SMB server: one JSON line per case on
# stdout. Run with /usr/bin/python3 (a pyenv python3 on PATH may lack impacket).
#
#   /usr/bin/python3 impacket-cases.py --host H --port P --user U --password W --share S [--group dialects|bad-input|all]
#
# dialects: SMBConnection at 2.0.2, 2.1, 3.0 and 3.1.1, and impacket.smb3.SMB3 at 3.0.2 (the
# only way impacket speaks 3.0.2): login, list shares (srvsvc over \PIPE\srvsvc), put a file,
# get it back, compare the bytes, delete it, log off.
# bad-input: what impacket can send that smbclient cleans up first: a path escaping the share
# (.., absolute, a stream name, sent raw), a read past end of file, a write on a handle opened
# for reading only. Each line carries the NTSTATUS the server answered ("STATUS_…", or
# "STATUS_SUCCESS").
#
# impacket is a lenient client (it never checks the server's signatures): these cases prove that
# it works, not that the server is right.
import argparse
import io
import json
import os
import sys
import time
import traceback

try:
    from impacket import nt_errors
    from impacket import smb3
    from impacket import smb3structs as s3
    from impacket.smbconnection import SMBConnection, SessionError
except ImportError as e:  # pragma: no cover - reported to the caller
    print(json.dumps({'case': 'import', 'ok': False, 'error': 'impacket is not installed (apt-get install python3-impacket): %s' % e}))
    sys.exit(3)

# impacket 0.10.0's NTLM login() never seeds the session's preauth integrity hash with the
# connection's (kerberosLogin() does; MS-SMB2 3.2.5.3.1: Session.PreauthIntegrityHashValue
# starts as Connection.PreauthIntegrityHashValue), so at 3.1.1 it derives a wrong signing key
# and a server that checks signatures answers its first signed request, the TREE_CONNECT,
# with STATUS_ACCESS_DENIED: smbd 4.17 does. The plain case shows that; the "preauth fix"
# case seeds the hash first (one assignment on this connection, nothing patched globally) and
# must pass.
DIALECTS = [
    ('SMBConnection 2.0.2', 'connection', s3.SMB2_DIALECT_002, False),
    ('SMBConnection 2.1', 'connection', s3.SMB2_DIALECT_21, False),
    ('SMBConnection 3.0', 'connection', s3.SMB2_DIALECT_30, False),
    ('SMBConnection 3.1.1', 'connection', s3.SMB2_DIALECT_311, False),
    ('SMBConnection 3.1.1 (preauth fix)', 'connection', s3.SMB2_DIALECT_311, True),
    ('SMB3 3.0.2', 'smb3', s3.SMB2_DIALECT_302, False),
]


def status_name(code):
    name = nt_errors.ERROR_MESSAGES.get(code)
    return name[0] if name else '0x%08x' % code


def error_of(e):
    # smbconnection.SessionError has getErrorCode(), smb3.SessionError get_error_code().
    for getter in ('getErrorCode', 'get_error_code'):
        if isinstance(e, (SessionError, smb3.SessionError)) and hasattr(e, getter):
            return status_name(getattr(e, getter)())
    return '%s: %s' % (type(e).__name__, e)


def connect(args, kind, dialect):
    if kind == 'smb3':
        raw = smb3.SMB3(args.host, args.host, sess_port=args.port, preferredDialect=dialect, timeout=args.timeout)
        return SMBConnection(existingConnection=raw)
    return SMBConnection(args.host, args.host, sess_port=args.port, preferredDialect=dialect, timeout=args.timeout)


def dialect_case(args, name, kind, dialect, fix_preauth):
    result = {'group': 'dialects', 'case': name, 'dialect': '0x%04x' % dialect, 'ok': False, 'steps': []}
    step = 'negotiate'
    conn = None
    try:
        conn = connect(args, kind, dialect)
        result['negotiated'] = '0x%04x' % conn.getDialect()
        if conn.getDialect() != dialect:
            raise Exception('negotiated 0x%04x instead of 0x%04x' % (conn.getDialect(), dialect))
        result['steps'].append(step)
        step = 'login'
        if fix_preauth:
            raw = conn.getSMBServer()
            raw._Session['PreauthIntegrityHashValue'] = raw._Connection['PreauthIntegrityHashValue']
        conn.login(args.user, args.password, args.domain)
        result['signingRequired'] = bool(conn.isSigningRequired())
        result['steps'].append(step)
        step = 'listShares'
        shares = [s['shi1_netname'][:-1] for s in conn.listShares()]
        result['shares'] = shares
        if args.share not in shares or 'IPC$' not in shares:
            raise Exception('shares listed: %s' % shares)
        result['steps'].append(step)
        step = 'put'
        data = os.urandom(args.bytes)
        path = 'impacket-%s-%d.bin' % (''.join(c if c.isalnum() else '-' for c in name), os.getpid())
        conn.putFile(args.share, path, io.BytesIO(data).read)
        result['steps'].append(step)
        step = 'get'
        back = io.BytesIO()
        conn.getFile(args.share, path, back.write)
        if back.getvalue() != data:
            raise Exception('got %d bytes back, not the %d put (or different bytes)' % (len(back.getvalue()), len(data)))
        result['steps'].append(step)
        step = 'delete'
        conn.deleteFile(args.share, path)
        result['steps'].append(step)
        step = 'logoff'
        conn.logoff()
        result['steps'].append(step)
        result['ok'] = True
    except Exception as e:
        result['failedStep'] = step
        result['error'] = error_of(e)
        if args.verbose:
            result['trace'] = traceback.format_exc()
    finally:
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass
    return result


def raw_create(conn, tree_id, name, desired_access, disposition):
    """An SMB2 CREATE with the name exactly as given: SMB3.create() normalises it first."""
    raw = conn.getSMBServer()
    packet = raw.SMB_PACKET()
    packet['Command'] = s3.SMB2_CREATE
    packet['TreeID'] = tree_id
    req = s3.SMB2Create()
    req['SecurityFlags'] = 0
    req['RequestedOplockLevel'] = s3.SMB2_OPLOCK_LEVEL_NONE
    req['ImpersonationLevel'] = s3.SMB2_IL_IMPERSONATION
    req['DesiredAccess'] = desired_access
    req['FileAttributes'] = s3.FILE_ATTRIBUTE_NORMAL
    req['ShareAccess'] = s3.FILE_SHARE_READ | s3.FILE_SHARE_WRITE
    req['CreateDisposition'] = disposition
    req['CreateOptions'] = s3.FILE_NON_DIRECTORY_FILE
    req['NameLength'] = len(name) * 2
    req['Buffer'] = name.encode('utf-16le') if name else b'\x00'
    req['CreateContextsOffset'] = 0
    req['CreateContextsLength'] = 0
    packet['Data'] = req
    answer = raw.recvSMB(raw.sendSMB(packet))
    status = answer['Status']
    file_id = None
    if status == 0:
        file_id = s3.SMB2Create_Response(answer['Data'])['FileID'].getData()
        raw.close(tree_id, file_id)
    return status_name(status)


def bad_input_cases(args):
    """Yields one result per case as it is known (a dropped connection loses none before it)."""
    # 3.0: signed (AES-CMAC), and clear of impacket's 3.1.1 preauth bug.
    conn = connect(args, 'connection', s3.SMB2_DIALECT_30)
    conn.login(args.user, args.password, args.domain)
    tree = conn.connectTree(args.share)
    probe = 'impacket-bad-input-%d.bin' % os.getpid()
    data = os.urandom(1000)
    conn.putFile(args.share, probe, io.BytesIO(data).read)
    try:
        # A path escaping the share, sent as is (MS-SMB2 3.3.5.9: a leading separator is
        # INVALID_PARAMETER; the file system refuses .. above the root and unknown streams).
        for case, name, access, disposition in [
            ('create ..\\ above the share root', '..\\..\\etc\\passwd', s3.FILE_READ_DATA, s3.FILE_OPEN),
            ('create .. inside a name', 'x\\..\\..\\etc\\passwd', s3.FILE_READ_DATA, s3.FILE_OPEN),
            ('create an absolute path', '\\etc\\passwd', s3.FILE_READ_DATA, s3.FILE_OPEN),
            ('create a new file above the root', '..\\escaped-by-impacket.txt', s3.FILE_WRITE_DATA, s3.FILE_OVERWRITE_IF),
            ('create a stream name', probe + ':evil:$DATA', s3.FILE_WRITE_DATA, s3.FILE_OVERWRITE_IF),
        ]:
            try:
                yield {'group': 'bad-input', 'case': case, 'name': name, 'status': raw_create(conn, tree, name, access, disposition)}
            except Exception as e:
                yield {'group': 'bad-input', 'case': case, 'name': name, 'status': error_of(e)}
        # A read past end of file (MS-SMB2 3.3.5.12: STATUS_END_OF_FILE).
        fid = conn.openFile(tree, probe, desiredAccess=s3.FILE_READ_DATA, shareMode=s3.FILE_SHARE_READ)
        try:
            conn.getSMBServer().read(tree, fid, offset=len(data) + 4096, bytesToRead=100)
            status = 'STATUS_SUCCESS'
        except Exception as e:
            status = error_of(e)
        yield {'group': 'bad-input', 'case': 'read past end of file', 'status': status}
        # A write on a handle opened for reading only (MS-SMB2 3.3.5.13: STATUS_ACCESS_DENIED).
        try:
            # bytesToWrite given: impacket's default 0 sends a zero-length write with CreditCharge 0.
            conn.getSMBServer().write(tree, fid, b'overwritten', offset=0, bytesToWrite=11)
            status = 'STATUS_SUCCESS'
        except Exception as e:
            status = error_of(e)
        yield {'group': 'bad-input', 'case': 'write on a read-only handle', 'status': status}
        conn.closeFile(tree, fid)
        back = io.BytesIO()
        conn.getFile(args.share, probe, back.write)
        yield {'group': 'bad-input', 'case': 'the probe file is unchanged', 'status': 'STATUS_SUCCESS' if back.getvalue() == data else 'CHANGED'}
    finally:
        try:
            conn.deleteFile(args.share, probe)
        except Exception:
            pass
        conn.disconnectTree(tree)
        conn.logoff()
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--user', required=True)
    p.add_argument('--password', required=True)
    p.add_argument('--domain', default='')
    p.add_argument('--share', required=True)
    p.add_argument('--bytes', type=int, default=1 << 20)
    p.add_argument('--timeout', type=int, default=30)
    p.add_argument('--group', choices=['dialects', 'bad-input', 'all'], default='all')
    p.add_argument('--verbose', action='store_true')
    args = p.parse_args()
    if args.group in ('dialects', 'all'):
        for name, kind, dialect, fix_preauth in DIALECTS:
            started = time.time()
            r = dialect_case(args, name, kind, dialect, fix_preauth)
            r['ms'] = round((time.time() - started) * 1000)
            print(json.dumps(r), flush=True)
    if args.group in ('bad-input', 'all'):
        try:
            for r in bad_input_cases(args):
                print(json.dumps(r), flush=True)
        except Exception as e:
            print(json.dumps({'group': 'bad-input', 'case': 'setup', 'status': error_of(e), 'trace': traceback.format_exc()}), flush=True)


if __name__ == '__main__':
    main()
