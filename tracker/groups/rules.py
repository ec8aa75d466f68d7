"""What a work group's code may be: it names the group in URLs, file names, sheets and chat.

A code is a capital letter followed by up to 15 capital letters, digits, ``-`` or
``_`` (``ZH``, ``JS``, ``CG-2``). Codes are upper-cased before the check, so
``cg`` becomes ``CG``; spaces, quotes, slashes and non-ASCII letters are refused.
"""

import re

CODE_PATTERN = re.compile(r"[A-Z][A-Z0-9_-]{0,15}")


def normalise_code(code: str) -> str:
    return (code or "").strip().upper()


def is_valid_code(code: str) -> bool:
    return CODE_PATTERN.fullmatch(code) is not None
