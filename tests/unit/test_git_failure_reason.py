"""What an operator reads when git fails: the reason, not whatever git printed last (issue 23)."""

from __future__ import annotations

import pytest

from modelreg.git.process import failure_reason


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        # the case from the issue: a warning printed after the real error hid it
        (
            b"error: cannot update ref 'refs/tags/m#production#9': would clobber existing tag\n"
            b"warning: filtering not recognized by server, ignoring\n",
            "cannot update ref 'refs/tags/m#production#9': would clobber existing tag",
        ),
        (b"fatal: repository 'x' not found\n", "repository 'x' not found"),
        (b"error: a\nfatal: b\n", "b"),
        (b"hint: try this\nsomething broke\nhint: or that\n", "something broke"),
        (b"warning: only a warning\n", "exit 128 (warning: only a warning)"),
        (b"", "exit 128"),
    ],
)
def test_the_reason_is_the_fatal_or_error_line(stderr: bytes, expected: str) -> None:
    assert failure_reason(stderr, 128) == expected
