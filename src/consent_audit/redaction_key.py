"""The customer's redaction key: made once, kept on their machine, never sent.

Pseudonyms for names and UPNs are an HMAC under this key (live/redact.py). Keeping the key
makes two snapshots taken days apart use the same pseudonyms, so support can compare them
(``consent-audit diff``) and follow one person through a case; without the key nobody can
turn a pseudonym back into a name, even by guessing first.last@domain. The default place is
the user's config directory (paths.py, per OS), written owner-only (files.py).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from consent_audit.errors import InputError
from consent_audit.files import make_private_dir, shown, write_text_atomic
from consent_audit.paths import config_file

KEY_FILE_NAME = "redaction.key"
KEY_BYTES = 32
_HEADER = "# consent-audit redaction key: keep it private, never send it with a snapshot\n"


def default_key_path() -> Path:
    return config_file(KEY_FILE_NAME)


def load_or_create_key(path: Path | None = None) -> tuple[bytes, Path, bool]:
    """The key at ``path`` (default: the config dir); made and saved owner-only if absent.

    Returns ``(key, path, created)``. A file that is not a key is exit 2, never overwritten.
    """
    target = path or default_key_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _create(target), target, True
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{shown(target)}: cannot read the redaction key ({exc}).",
            fix="Pass a readable key file with --redact-key, or remove it to make a new one "
            "(pseudonyms then change).",
        ) from None
    lines = [line.strip() for line in text.splitlines() if not line.startswith("#")]
    try:
        key = base64.b64decode("".join(lines), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise InputError(
            f"{shown(target)} is not a consent-audit redaction key.",
            fix="Point --redact-key at the key file consent-audit made, or at a path that does "
            "not exist yet to make a new key there.",
        )
    return key, target, False


def load_key(path: Path | None = None) -> tuple[bytes, Path]:
    """The existing key at ``path`` (default: the config dir); never makes one.

    For the way back (``unredact``): a new key could only give new pseudonyms.
    """
    target = path or default_key_path()
    if not target.exists():
        raise InputError(
            f"no redaction key at {shown(target)}.",
            fix="Pass the key the redacted snapshot was made with: --redact-key FILE.",
        )
    key, where, _ = load_or_create_key(target)
    return key, where


def _create(target: Path) -> bytes:
    key = secrets.token_bytes(KEY_BYTES)
    try:
        make_private_dir(target.parent)
        write_text_atomic(target, _HEADER + base64.b64encode(key).decode() + "\n")
    except OSError as exc:
        raise InputError(
            f"{shown(target)}: cannot save the redaction key ({exc.strerror}).",
            fix="Pass --redact-key FILE in a writable directory.",
        ) from None
    return key
