#!/usr/bin/python3
# A Samba 4.17 gensec client (python3-samba) driven over stdin/stdout, one JSON object a line, so
# that tests can run Samba's own SPNEGO / NTLMSSP client code against the acceptor in core/auth.
# Requests: {"op": "update", "token": hex}, {"op": "session_key"}, {"op": "sign", "data": hex},
# {"op": "check", "data": hex, "sig": hex}, {"op": "wrap", "data": hex}, {"op": "unwrap", "data": hex}.
# Every reply is {"ok": true, ...} or {"ok": false, "error": text}.
import json
import sys

from samba import credentials, gensec
from samba.param import LoadParm


def main():
    config = json.loads(sys.argv[1])
    lp = LoadParm()
    for key, value in config.get("lp", {}).items():
        lp.set(key, value)
    g = gensec.Security.start_client({"lp_ctx": lp, "target_hostname": config.get("target", "server")})
    creds = credentials.Credentials()
    creds.guess(lp)
    if config.get("anonymous"):
        creds.set_anonymous()
    else:
        creds.set_username(config["user"])
        creds.set_password(config["password"])
        creds.set_domain(config.get("domain", ""))
    creds.set_workstation(config.get("workstation", "CLIENT"))
    if not config.get("kerberos"):
        creds.set_kerberos_state(credentials.DONT_USE_KERBEROS)
    g.set_credentials(creds)
    for feature in config.get("features", []):
        g.want_feature({"sign": gensec.FEATURE_SIGN, "seal": gensec.FEATURE_SEAL, "session_key": gensec.FEATURE_SESSION_KEY}[feature])
    g.start_mech_by_name(config.get("mech", "spnego"))
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        try:
            if op == "update":
                finished, token = g.update(bytes.fromhex(request["token"]))
                reply = {"finished": bool(finished), "token": bytes(token).hex()}
            elif op == "session_key":
                reply = {"key": bytes(g.session_key()).hex()}
            elif op == "sign":
                data = bytes.fromhex(request["data"])
                reply = {"sig": bytes(g.sign_packet(data, data)).hex()}
            elif op == "check":
                data = bytes.fromhex(request["data"])
                g.check_packet(data, data, bytes.fromhex(request["sig"]))
                reply = {}
            elif op == "wrap":
                reply = {"data": bytes(g.wrap(bytes.fromhex(request["data"]))).hex()}
            elif op == "unwrap":
                reply = {"data": bytes(g.unwrap(bytes.fromhex(request["data"]))).hex()}
            else:
                raise ValueError("unknown op " + op)
            reply["ok"] = True
        except Exception as e:  # the error goes back to the test as a value
            reply = {"ok": False, "error": str(e)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


main()
