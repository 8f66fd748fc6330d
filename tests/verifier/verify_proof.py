#!/usr/bin/env python3
"""An independent verifier of chitieu's evidence, written from
docs/proofs.md alone, with nothing but Python's standard library.

    verify_proof.py --key KEY [--head OLD_HEAD.json] DOCUMENT.json

DOCUMENT is an inclusion bundle, a consistency bundle or a signed head.
KEY is the log's Ed25519 public key: base64 of its 32 bytes, or a file
holding that or an SPKI PEM. Exit status 0 when the document checks, 1 when
it does not (with the reason), 2 on a usage error.

Ed25519 verification follows RFC 8032 section 6 (the reference code), the
Merkle checks RFC 9162 sections 2.1.3.2 and 2.1.4.2.
"""

import argparse
import base64
import datetime
import hashlib
import json
import struct
import sys
import uuid

# --- Ed25519 (RFC 8032, section 6) ----------------------------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493


def _inv(x):
    return pow(x, P - 2, P)


D = -121665 * _inv(121666) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F, G * H, F * G, E * H)


def _mul(s, point):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, point)
        point = _add(point, point)
        s >>= 1
    return acc


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * _inv(D * y * y + 1) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_GY = 4 * _inv(5) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % Q
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# --- RFC 9162 ---------------------------------------------------------------


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index, size, leaf, path, root):
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    if first == 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- chitieu's documents (docs/proofs.md) -----------------------------------


class Invalid(Exception):
    pass


def hex32(text, what):
    if not isinstance(text, str) or len(text) != 64 or text != text.lower():
        raise Invalid(f"{what} is not lower-case hex of 32 bytes")
    return bytes.fromhex(text)


def b64(text, what):
    try:
        raw = base64.b64decode(text, validate=True)
    except Exception:
        raise Invalid(f"{what} is not base64")
    if base64.b64encode(raw).decode() != text:
        raise Invalid(f"{what} is not canonical base64")
    return raw


def load_key(text_or_path):
    try:
        with open(text_or_path) as f:
            text = f.read().strip()
    except OSError:
        text = text_or_path.strip()
    if text.startswith("-----BEGIN PUBLIC KEY-----"):
        body = "".join(text.splitlines()[1:-1])
        der = base64.b64decode(body)
        prefix = bytes.fromhex("302a300506032b6570032100")
        if not der.startswith(prefix) or len(der) != 44:
            raise Invalid("not an Ed25519 SPKI public key")
        return der[len(prefix):]
    raw = base64.b64decode(text)
    if len(raw) != 32:
        raise Invalid("an Ed25519 public key has 32 bytes")
    return raw


def key_id(public):
    return hashlib.sha256(public).digest()[:8].hex()


def check_head(head, public):
    if head.get("keyId") != key_id(public):
        raise Invalid(f"the head names key {head.get('keyId')}, not {key_id(public)}")
    root = hex32(head["root"], "root")
    hex32(head["chainHash"], "chainHash")
    body = "{}\n{}\n{}\nchain {}\ntime {}\n".format(
        head["origin"], head["size"], base64.b64encode(root).decode(), head["chainHash"], head["time"]
    )
    if not ed25519_verify(public, body.encode(), b64(head["signature"], "signature")):
        raise Invalid(f"the signature of the head of size {head['size']} does not match")
    return root


def parse_record(data):
    """The record layout of docs/proofs.md (format 1)."""
    at = 0

    def take(n):
        nonlocal at
        if at + n > len(data):
            raise Invalid("the record is cut short")
        chunk = data[at:at + n]
        at += n
        return chunk

    def text():
        (n,) = struct.unpack(">H", take(2))
        return take(n).decode("utf-8")

    if take(1) != b"\x01":
        raise Invalid("unknown record format")
    position, version = struct.unpack(">QQ", take(16))
    event_id = uuid.UUID(bytes=take(16))
    (micros,) = struct.unpack(">q", take(8))
    take(16)  # correlation id
    take(1)
    take(16)  # causation
    (schema,) = struct.unpack(">H", take(2))
    stream, actor_id, actor_name, actor_role, event_type = (text() for _ in range(5))
    (length,) = struct.unpack(">I", take(4))
    payload = take(length)
    prev = take(32)
    own = take(32)
    if at != len(data):
        raise Invalid("bytes after the record's hash")
    if hashlib.sha256(data[:-32]).digest() != own:
        raise Invalid("the record's hash does not match its bytes")
    when = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(microseconds=micros)
    return {
        "position": position,
        "hash": own,
        "prev": prev,
        "view": {
            "stream": stream,
            "version": version,
            "eventType": event_type,
            "schemaVersion": schema,
            "eventId": str(event_id),
            "recordedAt": when.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "actorId": actor_id,
            "actorName": actor_name,
            "actorRole": actor_role,
            "payload": json.loads(payload),
        },
    }


def check_inclusion(bundle, public):
    if bundle.get("publicKey") and b64(bundle["publicKey"], "publicKey") != public:
        raise Invalid("the bundle names another key than the trusted one")
    head = bundle["signedHead"]
    root = check_head(head, public)
    position = bundle["position"]
    data = b64(bundle["record"], "record")
    record = parse_record(data)
    if record["position"] != position:
        raise Invalid(f"the record says position {record['position']}, not {position}")
    if record["view"] != bundle["event"]:
        raise Invalid("the event shown is not what the record's bytes say")
    leaf = leaf_hash(data)
    if leaf.hex() != bundle["leafHash"]:
        raise Invalid("leafHash is not SHA-256(0x00 || record)")
    path = [hex32(h, "path") for h in bundle["path"]]
    if not verify_inclusion(position - 1, head["size"], leaf, path, root):
        raise Invalid(f"position {position} is not under the signed root of size {head['size']}")
    if position == head["size"] and record["hash"].hex() != head["chainHash"]:
        raise Invalid("the head's chain hash is not the record's")
    return f"record {position} ({record['view']['eventType']}) is in the log of size {head['size']}"


def check_consistency(bundle, public, old):
    old_root = check_head(bundle["from"], public)
    new_root = check_head(bundle["to"], public)
    if old is not None:
        check_head(old, public)
        if old["size"] != bundle["from"]["size"] or old["root"] != bundle["from"]["root"]:
            raise Invalid("the proof does not start at the head you recorded")
    path = [hex32(h, "path") for h in bundle["path"]]
    a, b = bundle["from"]["size"], bundle["to"]["size"]
    if not verify_consistency(a, b, old_root, new_root, path):
        raise Invalid(f"the log of size {a} is not a prefix of the log of size {b}")
    return f"the log of size {a} is a prefix of the log of size {b}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--key", required=True)
    parser.add_argument("--head")
    parser.add_argument("document")
    args = parser.parse_args()
    try:
        public = load_key(args.key)
        with open(args.document) as f:
            document = json.load(f)
        old = None
        if args.head:
            with open(args.head) as f:
                old = json.load(f)
        kind = document.get("format")
        if kind == "chitieu.inclusion.v1":
            verdict = check_inclusion(document, public)
        elif kind == "chitieu.consistency.v1":
            verdict = check_consistency(document, public, old)
        elif "signature" in document and "root" in document:
            check_head(document, public)
            verdict = f"the head of size {document['size']} is signed by the key"
        else:
            raise Invalid(f"unknown document format {kind!r}")
    except (Invalid, KeyError, TypeError, ValueError) as e:
        print(f"NOT VALID: {e}")
        return 1
    print(f"VALID: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
