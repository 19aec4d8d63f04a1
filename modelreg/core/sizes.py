"""Byte counts as people read them, in binary units (KiB, MiB…), the same in the CLI and the report; pure."""


def size(n: int) -> str:
    """`1536` → `1.5 KiB`; bytes below 1 KiB as whole numbers."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"
