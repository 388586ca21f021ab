"""Bulk statements straight to the database driver (issue 17: the stored pass at scale).

SQLAlchemy's executemany builds a parameter dict and runs every type's bind processor through
generic per-row code: ~20 µs a row, about a third of a 100,000-listing import. Here a statement
is compiled once for the connection's dialect, the bind processors are looked up once, and the
rows go to the DBAPI ``executemany`` as tuples (positional dialects such as SQLite) or dicts
(pyformat dialects such as psycopg). Values are converted exactly as SQLAlchemy would (the same
``bind_processor`` of each column type), so rows read back are identical.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy.engine import Connection


def executemany(conn: Connection, stmt, rows: Sequence[dict]) -> int:
    """Run `stmt` (an INSERT or UPDATE with bind parameters named by the keys of `rows`; all rows
    have the same keys) once per row in one DBAPI executemany on `conn`, inside its current
    transaction. Constant values in `stmt` (``.values(status="active")``) are bound once.
    Returns the driver's rowcount (rows inserted or updated; -1 when the driver does not say).
    Raises what the driver raises (IntegrityError etc., wrapped by SQLAlchemy)."""
    if not rows:
        return 0
    dialect = conn.dialect
    keys = list(rows[0])
    compiled = stmt.compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup) if compiled.positional else list(compiled.binds)
    consts = compiled.construct_params(dict(rows[0]))  # the constants (row keys are filled in per row)
    cols = []  # (name, row key or None, processor, constant)
    for name in names:
        bp = compiled.binds[name]
        proc = bp.type._cached_bind_processor(dialect)
        key = bp.key if bp.key in rows[0] else None
        cols.append((name, key, proc, None if key is not None else consts.get(name)))
    const_vals = {name: (proc(c) if proc and c is not None else c) for name, key, proc, c in cols if key is None}
    # a processor's result for the last value seen (the same `now` on every row, etc.)
    memo: dict[str, tuple] = {}

    def conv(name, key, proc, row):
        v = row[key]
        if proc is None or v is None:
            return v
        last = memo.get(name)
        if last is not None and last[0] is v:
            return last[1]
        out = proc(v)
        if not isinstance(v, (list, dict)):  # never a mutable value: it may change between rows
            memo[name] = (v, out)
        return out

    plain = [(name, key) for name, key, proc, _ in cols if key is not None and proc is None]
    procd = [(name, key, proc) for name, key, proc, _ in cols if key is not None and proc is not None]
    order = [name for name, *_ in cols]
    if compiled.positional and not procd and not const_vals:
        idx = [key for _, key in plain]
        params = [tuple([r[k] for k in idx]) for r in rows]
    else:
        params = []
        for r in rows:
            d = {name: r[key] for name, key in plain}
            for name, key, proc in procd:
                d[name] = conv(name, key, proc, r)
            d.update(const_vals)
            params.append(tuple([d[n] for n in order]) if compiled.positional else d)
    # the compiled string is in the driver's own paramstyle (a literal % already doubled for
    # format/pyformat drivers); exec_driver_sql hands it and the rows to cursor.executemany
    res = conn.exec_driver_sql(compiled.string, params)
    return res.rowcount
