"""What log lines must never carry, taken out of every record: a share link's token, which is its whole permission,
appears in its URL's path (`/shared/<token>/`, `/api/shared/<token>/`), and paths are logged (the access log,
Django's "Not Found: <path>")."""

from __future__ import annotations

import logging
import re

SHARE_LINK_PATH = re.compile(r"(/shared/)[A-Za-z0-9_-]+")
REDACTED = r"\1[token]"


def redact(text: str) -> str:
    return SHARE_LINK_PATH.sub(REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """Replaces share link tokens in a record's message and its string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: redact(arg) if isinstance(arg, str) else arg for key, arg in record.args.items()}
        return True
