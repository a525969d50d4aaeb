"""The nodes: SSH users, host keys and private keys (paramiko and the node's sshd), paths on the node."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from typing import Final

# POSIX's portable user name (letters, digits, . _ -, not starting with -), at most 32 characters (useradd).
SSH_USER_RE: Final = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$")
HOST_KEY_TYPES: Final = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                         "ssh-rsa")
# What components/node_ssh.py load_private_key reads: unencrypted Ed25519, ECDSA or RSA keys.
_PEM_KEY_RE: Final = re.compile(r"-----BEGIN (OPENSSH|RSA|EC|DSA|ENCRYPTED|) ?PRIVATE KEY-----\s*(.*?)\s*"
                                r"-----END \1 ?PRIVATE KEY-----", re.DOTALL)


def ssh_user_problem(user: str) -> str | None:
    """Why `user` is not a user name a node can have (POSIX portable name, at most 32 characters), or None."""
    if SSH_USER_RE.match(user) is None:
        return (f"{user!r} is not a user name: letters, digits, . _ - (not starting with -), at most 32 "
                "characters")
    return None


NODE_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")


def node_name_problem(name: str) -> str | None:
    """Why `name` cannot name a node (its resources, messages and outputs): 1-63 letters, digits, . _ -, or None."""
    if NODE_NAME_RE.match(name) is None:
        return f"{name!r} is not a node name: 1-63 letters, digits, . _ - (e.g. the Kubernetes node name)"
    return None


def host_key_problem(key: str) -> str | None:
    """Why `key` is not a pinned SSH host key `<type> <base64>` (as in known_hosts or ssh-keyscan), or None."""
    parts = key.split()
    if len(parts) < 2:
        return "must be '<type> <base64>' as ssh-keyscan prints it, e.g. 'ssh-ed25519 AAAAC3Nza...'"
    kind, blob = parts[0], parts[1]
    if kind not in HOST_KEY_TYPES:
        return f"key type {kind!r} is not one of {', '.join(HOST_KEY_TYPES)}"
    try:
        raw = base64.b64decode(blob, validate=True)
        (size,) = struct.unpack(">I", raw[:4])
        embedded = raw[4:4 + size].decode()
    except (binascii.Error, struct.error, UnicodeDecodeError):
        return f"the {kind} key's base64 part is damaged: copy the whole line from ssh-keyscan again"
    if embedded != kind:
        return f"says {kind} but the key inside is {embedded}"
    return None


def ssh_private_key_problem(pem: str) -> str | None:
    """Why `pem` is not a private key the SSH transport can use (unencrypted Ed25519, ECDSA or RSA), or None.

    Never repeats any of the key.
    """
    match = _PEM_KEY_RE.search(pem)
    if match is None:
        return ("is not a private key: set the whole file, -----BEGIN ... PRIVATE KEY----- to -----END ... "
                "PRIVATE KEY----- (pulumi config set --secret harbor-cache:sshPrivateKey -- \"$(cat key)\")")
    kind, body = match.group(1), match.group(2)
    if kind == "":
        return ("is a PKCS#8 key (BEGIN PRIVATE KEY), which the SSH transport (paramiko) cannot read: rewrite it in "
                "OpenSSH format with ssh-keygen -p -N '' -f <key file>")
    if kind == "DSA":
        return "is a DSA key, which the SSH transport does not use: give an Ed25519, ECDSA or RSA key"
    if kind == "ENCRYPTED" or "ENCRYPTED" in body.split("\n\n", 1)[0]:
        return "is protected by a passphrase, which the SSH transport cannot enter: use a key without one"
    if kind == "OPENSSH":
        try:
            raw = base64.b64decode("".join(body.split()), validate=True)
        except binascii.Error:
            return "is damaged (its base64 body does not decode): copy the whole key file again"
        magic = b"openssh-key-v1\0"
        if not raw.startswith(magic):
            return "is damaged (no openssh-key-v1 header): copy the whole key file again"
        (size,) = struct.unpack(">I", raw[len(magic):len(magic) + 4])
        cipher = raw[len(magic) + 4:len(magic) + 4 + size]
        if cipher != b"none":
            return "is protected by a passphrase, which the SSH transport cannot enter: use a key without one"
    return None


def node_path_problem(path: str) -> str | None:
    """Why `path` is not an absolute file path the node script can use, or None."""
    if not path.startswith("/") or "\n" in path or "\0" in path:
        return f"{path!r} must be an absolute path on the node (starting with /, one line)"
    return None


def certs_dir_problem(path: str) -> str | None:
    """Why `path` cannot be containerd's registry config_path, or None.

    It is written into config.toml as a TOML string and into hosts.toml `ca` paths, and containerd 1.x splits
    config_path on ':', so quotes, backslashes and ':' are out.
    """
    if (problem := node_path_problem(path)) is not None:
        return problem
    bad = sorted({c for c in path if c in "\"'\\:"})
    if bad:
        return f"{path!r} has {' '.join(bad)}: containerd's config_path cannot carry quotes, backslashes or ':'"
    return None


def command_name_problem(value: str) -> str | None:
    """Why `value` is not one command (a name on PATH or an absolute path, no spaces), or None."""
    if not value or any(c.isspace() for c in value) or (("/" in value) and not value.startswith("/")):
        return f"{value!r} must be a command name such as containerd, or an absolute path, without spaces"
    return None
