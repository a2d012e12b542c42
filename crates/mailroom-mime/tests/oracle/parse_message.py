"""Oracle: parse a message from stdin with Python's email package (policy.default) and print
what came back as JSON: addresses, subject, ids, bodies, every leaf part and every defect.
With --many, stdin is a JSON array of base64 messages and the output an array."""
import base64
import email
import json
import sys
from email import headerregistry, policy

# policy.default, with Disposition-Notification-To read as the address list it is.
REGISTRY = headerregistry.HeaderRegistry()
REGISTRY.map_to_type("disposition-notification-to", headerregistry.AddressHeader)
POLICY = policy.default.clone(header_factory=REGISTRY)


def addresses(msg, name):
    header = msg[name]
    if header is None:
        return []
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def text_of(part):
    return part.get_content().replace("\r\n", "\n")


def leaves(part, out):
    """Every leaf part, without descending into an enclosed message."""
    if part.is_multipart() and part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            leaves(sub, out)
    else:
        out.append(part)


def defects_of(part, out):
    out.extend(type(d).__name__ for d in part.defects)
    for name, value in part.items():
        out.extend(f"{name}: {type(d).__name__}" for d in getattr(value, "defects", ()))
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            defects_of(sub, out)


def describe(raw):
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    if header_block.isascii():
        msg = email.message_from_bytes(raw, policy=POLICY)
    else:
        # RFC 6532 UTF-8 headers: the bytes parser would take them for undecodable bytes.
        msg = email.message_from_string(raw.decode("utf-8"), policy=POLICY)
    parts = []
    for leaf in leaves_list(msg):
        info = {
            "content_type": leaf.get_content_type(),
            "disposition": leaf.get_content_disposition(),
            "filename": leaf.get_filename(),
            "content_id": leaf["content-id"],
        }
        if leaf.get_content_type() == "message/rfc822":
            inner = leaf.get_content()
            if str(leaf.get("content-transfer-encoding", "")).lower() == "base64":
                # Python does not decode a base64 message/rfc822 (Mailroom's fallback for an
                # 8-bit original when 8bit is not allowed); decode it and parse what it encloses.
                encoded = inner.get_payload()
                inner = email.message_from_bytes(base64.b64decode(encoded), policy=POLICY)
            info["inner_subject"] = inner["subject"]
            body = inner.get_body(("plain",))
            try:
                info["inner_body"] = text_of(body) if body is not None else None
            except LookupError:
                # The enclosed original names a charset Python does not know.
                info["inner_body"] = None
        else:
            payload = leaf.get_payload(decode=True)
            # message/* parts other than rfc822 (delivery-status...) come back parsed, not as bytes.
            info["data"] = base64.b64encode(payload).decode() if payload is not None else None
            if leaf.get_content_maintype() == "text" and leaf.get_content_charset():
                info["text"] = text_of(leaf)
        parts.append(info)
    defects = []
    defects_of(msg, defects)
    result = {
        "subject": msg["subject"],
        "from": addresses(msg, "from"),
        "sender": addresses(msg, "sender"),
        "reply_to": addresses(msg, "reply-to"),
        "to": addresses(msg, "to"),
        "cc": addresses(msg, "cc"),
        "bcc_present": "bcc" in msg,
        "receipt_to": addresses(msg, "disposition-notification-to"),
        "message_id": msg["message-id"],
        "in_reply_to": msg["in-reply-to"],
        "references": msg["references"],
        "date": msg["date"].datetime.isoformat() if msg["date"] else None,
        "parts": parts,
        "defects": defects,
    }
    return result


def leaves_list(msg):
    out = []
    leaves(msg, out)
    return out


def main():
    if sys.argv[1:] == ["--many"]:
        # A JSON array of base64 messages in, a JSON array of descriptions out.
        messages = json.load(sys.stdin)
        result = [describe(base64.b64decode(m)) for m in messages]
    else:
        result = describe(sys.stdin.buffer.read())
    json.dump(result, sys.stdout, ensure_ascii=False)


main()
