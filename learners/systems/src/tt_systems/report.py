"""Plain-text tables for profiles and reports (returned as strings: the caller prints)."""

OP_COLUMNS = (  # (header, field, format)
    ("op", "name", "{}"), ("phase", "phase", "{}"), ("calls", "calls", "{:d}"),
    ("time ms", "seconds", "ms"), ("% time", "share", "{:.1f}"), ("MFLOP", "flops", "mega"),
    ("GFLOP/s", "rate", "{:.2f}"), ("MB alloc", "bytes", "mega"),
)
MODULE_COLUMNS = (
    ("module", "name", "{}"), ("type", "type", "{}"), ("calls", "calls", "{:d}"),
    ("fwd ms", "seconds", "ms"), ("fwd MFLOP", "flops", "mega"), ("fwd MB", "bytes", "mega"),
    ("bwd ms", "backward_seconds", "ms"), ("bwd MFLOP", "backward_flops", "mega"),
    ("bwd MB", "backward_bytes", "mega"),
)
SUMMED = ("calls", "seconds", "flops", "bytes")


def _cell(value, fmt):
    if fmt == "ms":
        return f"{value * 1e3:.3f}"
    if fmt == "mega":
        return f"{value / 1e6:.3f}"
    return fmt.format(value)


def _fold(rows, top):
    """rows[:top] plus one row summing the rest, so the shown rows add up to the total."""
    if top is None or len(rows) <= top:
        return list(rows)
    rest = rows[top:]
    folded = {"name": f"({len(rest)} more)", "phase": "", "type": ""}
    for field in SUMMED:
        folded[field] = sum(r[field] for r in rest)
    return list(rows[:top]) + [folded]


def _with_rates(rows, total_seconds):
    for row in rows:
        row["share"] = 100.0 * row["seconds"] / total_seconds if total_seconds > 0 else 0.0
        row["rate"] = row["flops"] / row["seconds"] / 1e9 if row["seconds"] > 0 else 0.0
    return rows


def render(columns, rows):
    """Left-aligned text columns, a rule under the header."""
    header = [title for title, _, _ in columns]
    body = [[_cell(row[field], fmt) for _, field, fmt in columns] for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(columns))]
    lines = ["  ".join(text.ljust(w) if i < 2 else text.rjust(w)
                       for i, (text, w) in enumerate(zip(line, widths))).rstrip()
             for line in [header, *body]]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def format_table(rows, top, kind="op"):
    """The op table (with a totals row) or the module table (inclusive: rows nest)."""
    if kind == "module":
        shown = [dict(r) for r in (rows if top is None else rows[:top])]
        if not shown:
            return "(no module calls recorded)"
        return render(MODULE_COLUMNS, shown) + "\n(inclusive: a module's numbers contain " \
            "those of its submodules)"
    total = {"name": "total", "phase": ""}
    for field in SUMMED:
        total[field] = sum(r[field] for r in rows)
    shown = _with_rates([dict(r) for r in _fold(rows, top)] + [total], total["seconds"])
    return render(OP_COLUMNS, shown)


def format_pairs(title, pairs):
    """A two-column 'name  value' block under a title."""
    width = max((len(name) for name, _ in pairs), default=0)
    return "\n".join([title] + [f"  {name.ljust(width)}  {value}" for name, value in pairs])
