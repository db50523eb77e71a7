"""Small-cell suppression for every number a report shows (screen, CSV, PDF).

Why this exists: a count from fewer than five people can identify someone (SKR's survey vendor
refuses unit reports below five respondents). Hiding the small cell is not enough when totals are
shown: a hidden cell equals the total minus the visible cells. So besides the *primary* cells
(1–4 people) we hide *complementary* cells until no hidden cell can be worked out from the
published numbers.

The model is deliberately generic: a table is a set of cells and a list of *lines*; a line is a
linear equation "the inner cells add up to the total cell" (a row with its row total, a column
with its column total, the margins with the grand total). A hidden cell is derivable exactly when
its value is fixed by those equations, which we test with the rank of the equation matrix
restricted to hidden cells. Tables whose totals count distinct people (one person in several
themes) are not strictly additive; treating them as additive is the conservative choice for the
rank test, while the exact check (``_pinned``) uses the relation the true numbers satisfy. When
even hiding every cell leaves a small one pinned by its labels and the rows a table lists
(always so below five people), ``protect_table`` says the table must be hidden as a whole.

Pure: no database, no web; used by queries, controllers and exports alike.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import numpy as np


MIN_PEOPLE = 5
SMALL = "small"  # reason code: a primary cell, 1..k-1 people
COMPLEMENT = "complement"  # reason code: hidden only so that a small cell cannot be worked out
SUPPRESSED_SV = "färre än 5"
COMPLEMENT_SV = "dold för att skydda en liten grupp"
# reason code: a table of fewer than k people is hidden as a whole (only its total is said to be
# small); per-cell labels and the list of its rows would pin its cells (see ``tiny_table``)
TABLE = "table"
TABLE_SV = "dold: för få i tabellen"
HIDDEN_SV = "dold"  # a hidden number whose reason is unknown (e.g. a snapshot saved before reasons)
MERGE_UNITS_SV = "slå ihop enheter"

K = TypeVar("K", bound=Hashable)
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)

TOTAL = "__total__"  # key used for margin rows/columns


@dataclass(frozen=True)
class Line(Generic[K]):
    """``sum(cells) == total`` (``total`` is None for a line without a shown total cell)."""

    cells: tuple[K, ...]
    total: K | None = None

    @property
    def members(self) -> tuple[K, ...]:
        return self.cells if self.total is None else (*self.cells, self.total)


def is_primary(count: int, k: int = MIN_PEOPLE) -> bool:
    """A cell from 1..k-1 people must be hidden. An empty cell (0 people) reveals nobody."""
    return 0 < count < k


def _determined(keys: Sequence[K], lines: Sequence[Line[K]], hidden: set[K]) -> list[K]:
    """Hidden cells whose value follows from the published numbers (linear algebra).

    x_j is fixed by ``A x = b`` iff every solution of ``A v = 0`` has ``v_j = 0``, i.e. the
    null space of A is zero in coordinate j. One SVD gives the whole null space; asking "does
    dropping column j lower the rank?" per column (the same test) cost one SVD per hidden cell,
    which made the report's suppression the slowest part of a large city's report page.
    """
    import numpy as np  # on first use: keeps ~0.3 s off every process start

    cols = [key for key in keys if key in hidden]
    if not cols:
        return []
    index = {key: j for j, key in enumerate(cols)}
    rows = []
    for line in lines:
        row = np.zeros(len(cols))
        touched = False
        for cell in line.cells:
            if cell in index:
                row[index[cell]] += 1.0
                touched = True
        if line.total is not None and line.total in index:
            row[index[line.total]] -= 1.0
            touched = True
        if touched:
            rows.append(row)
    if not rows:
        return []
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    tolerance = singular.max(initial=0.0) * max(matrix.shape) * np.finfo(float).eps
    null_space = vt[int((singular > tolerance).sum()) :]
    if not len(null_space):
        return list(cols)
    free = np.abs(null_space).max(axis=0) > 1e-9
    return [key for key, j in index.items() if not free[j]]


def _complement(line: Line[K], values: Mapping[K, int], hidden: set[K], order: Mapping[K, int]) -> K | None:
    """The next-smallest visible cell of a line; non-empty cells first (a hidden 0 protects little)."""
    candidates = [c for c in line.members if c not in hidden]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (values[c] == 0, values[c], order[c]))


def protect(
    values: Mapping[K, int], lines: Iterable[Line[K]], k: int = MIN_PEOPLE, positive: Iterable[K] = ()
) -> frozenset[K]:
    """The cells to hide (see ``_protect``); ``protect_table`` also says when that is not enough."""
    return _remembered(values, lines, k, frozenset(positive))[0]


def protect_table(
    values: Mapping[K, int], lines: Iterable[Line[K]], k: int = MIN_PEOPLE, positive: Iterable[K] = ()
) -> tuple[frozenset[K], bool]:
    """The cells to hide, and whether the table must instead be hidden as a whole.

    Why a table can need that: hiding cells one by one still labels each of them ("färre än 5",
    or "dold för att skydda en liten grupp": 0 or at least 5) and still lists the table's rows.
    When nearly every cell is small, the labels alone can add up to the truth (three rows said
    to be small under a hidden total that is not small: at least 5, at most 12 …). Then no set
    of hidden cells helps; the caller shows the table's total at most, without per-cell labels.
    """
    lines = list(lines)
    known = frozenset(positive)
    hidden, verified = _remembered(values, lines, k, known)
    if not hidden or verified:
        return hidden, False
    keys = list(values)
    pinned = _pinned(keys, [ln for ln in lines if ln.total is not None], set(hidden), values, k, known)
    return hidden, any(is_primary(values[c], k) for c in pinned)


def _remembered(
    values: Mapping[K, int], lines: Iterable[Line[K]], k: int, known: frozenset[K]
) -> tuple[frozenset[K], bool]:
    """``_protect``, remembered per table.

    Why remember: the same tables come back on every view of a report (page, print, PDF, CSV,
    JSON, the summary's previous period) and the exact checks cost milliseconds per hidden cell.
    The result depends only on the numbers, the lines, ``k`` and the known non-empty cells, so a
    table seen before is not worked out again.
    """
    return _protect_cached(tuple(values.items()), tuple(lines), k, known)


@lru_cache(maxsize=512)
def _protect_cached(
    items: tuple[tuple[K, int], ...], lines: tuple[Line[K], ...], k: int, known: frozenset[K]
) -> tuple[frozenset[K], bool]:
    return _protect(dict(items), list(lines), k, known)


def _protect(
    values: Mapping[K, int], lines: list[Line[K]], k: int, known: frozenset[K]
) -> tuple[frozenset[K], bool]:
    """Return the cells to hide: primary (< k people) plus complements, iterated to a fixed point.

    1. Hide every primary cell.
    2. In any line with exactly one hidden cell, hide its next-smallest visible cell.
    3. If a hidden cell is still derivable (e.g. a "bridge" between two protected blocks), hide
       the next-smallest visible cell in one of its lines and go back to 2.

    ``known``: cells the reader knows hold at least one person although they may be hidden
    (a row the table lists only because it is not empty). Returns the cells and whether the
    exact check (``_pinned``) passed on them; it is skipped when no hidden cell is small.
    """
    keys = list(values)
    order = {key: i for i, key in enumerate(keys)}
    # A line without a total cell states nothing that could be solved for.
    lines = [line for line in lines if line.total is not None and len(line.members) > 1]
    hidden = {key for key in keys if is_primary(values[key], k)}
    if not hidden:
        return frozenset(), True
    by_cell: dict[K, list[Line[K]]] = {}
    for line in lines:
        for cell in line.members:
            by_cell.setdefault(cell, []).append(line)
    required: set[K] = set()  # complements the exact check below asked for: never pruned
    for _ in range(len(keys) + 1):
        changed = True
        while changed:
            changed = False
            for line in lines:
                if sum(1 for c in line.members if c in hidden) == 1:
                    extra = _complement(line, values, hidden, order)
                    if extra is not None:
                        hidden.add(extra)
                        changed = True
        derivable = _determined(keys, lines, hidden)
        if derivable:
            cell = derivable[0]
        else:
            kept = _show_pinned_zeros(lines, _prune(keys, lines, hidden, values, k, required), values, k)
            # The rank test above is linear algebra; a reader also knows that counts are whole
            # and never negative and what the labels say (1..k-1, or 0 or at least k), which can
            # pin a cell the rank test calls free (e.g. a hidden 1 beside a hidden 0 under a
            # shown total of 1). An exact bound per hidden cell settles it.
            pinned = [
                c
                for c in _pinned(keys, lines, kept, values, k, known)
                if values[c] != 0 or is_primary(values[c], k)
            ]
            if not pinned:
                return frozenset(kept), True
            hidden = set(kept)
            # a hidden 0 cannot widen anything here: look for a visible cell with people, first in
            # the pinned cell's own lines, then in any line that holds a hidden cell
            near = [c for line in by_cell.get(pinned[0], []) for c in line.members]
            far = [c for line in lines if any(m in hidden for m in line.members) for c in line.members]
            options = [c for c in near if c not in hidden and values[c] > 0]
            options = options or [c for c in far if c not in hidden and values[c] > 0]
            if not options:  # nothing left that could blur it: hide the whole table
                return frozenset(keys), False
            extra = min(options, key=lambda c: (values[c], order[c]))
            hidden.add(extra)
            required.add(extra)
            continue
        options = [
            c for line in by_cell.get(cell, []) if (c := _complement(line, values, hidden, order)) is not None
        ]
        if not options:  # every related cell is hidden already; nothing more can help
            return frozenset(hidden), False
        hidden.add(min(options, key=lambda c: (values[c] == 0, values[c], order[c])))
    return frozenset(keys), False  # no fixed point within the bound: hide everything rather than guess


def _pinned(
    keys: Sequence[K],
    lines: Sequence[Line[K]],
    hidden: set[K] | frozenset[K],
    values: Mapping[K, int],
    k: int = MIN_PEOPLE,
    positive: frozenset[K] = frozenset(),
) -> list[K]:
    """Hidden cells whose value a reader can pin down from what the page says.

    The reader knows every shown number, that counts are whole and never negative, and what the
    labels say: "färre än 5" is 1..k-1 people, "dold för att skydda en liten grupp" is 0 or at
    least k (it is not small, or it would say so). Without the labels, two hidden 1s beside a
    shown 5 under a shown 7 look free (each 0..2), but both are "färre än 5" and add up to 2, so
    both are 1 (issue 14; found by ``tests/feedback/reports/test_no_differencing.py``).

    For each hidden cell: its smallest and largest value over every whole-number solution of the
    lines with the shown numbers filled in (two small mixed-integer programs; a complement's
    "0 or at least k" is a 0/1 switch). Pinned when only one whole number is possible.
    """
    import numpy as np  # on first use: keeps ~0.3 s off every process start
    from scipy.optimize import Bounds, LinearConstraint, milp  # loaded only when a table hides cells

    cols = [key for key in keys if key in hidden]
    if not cols:
        return []
    index = {key: j for j, key in enumerate(cols)}
    a_rows: list[np.ndarray] = []
    a_low: list[float] = []
    a_high: list[float] = []

    def add(signed: list[tuple[K, float]], low: float, high: float) -> None:
        """``low <= sum(sign * cell) <= high`` with the shown cells moved to the bounds."""
        row = np.zeros(len(cols))
        shift = 0.0
        for cell, sign in signed:
            if cell in index:
                row[index[cell]] += sign
            else:
                shift += sign * values[cell]
        if row.any():
            a_rows.append(row)
            a_low.append(low - shift)
            a_high.append(high - shift)

    for line in lines:
        if line.total is None:
            continue
        signed = [(c, 1.0) for c in line.cells] + [(line.total, -1.0)]
        inside, total = sum(values[c] for c in line.cells), values[line.total]
        # A line of distinct people is not always a sum (one person in two themes, a text
        # without a theme): equations the true numbers break would leave no solution and call
        # every cell free. So the reader is assumed to know how the line really relates, which
        # is never less than a reader can know: equal, at most, or at least the total.
        add(signed, -np.inf if inside < total else 0.0, np.inf if inside > total else 0.0)
        if inside != total:  # then each cell (a group of the total's people) is at most the total
            for c in line.cells:
                if values[c] <= total:
                    add([(c, 1.0), (line.total, -1.0)], -np.inf, 0.0)
    if not a_rows:
        return []
    # Any count is at most the sum of the table; a tight bound keeps the 0/1 switch exact.
    big = float(max(sum(values.values()), k)) + k
    switches = [j for j, key in enumerate(cols) if not is_primary(values[key], k)]
    n, width = len(cols), len(cols) + len(switches)
    rows: list[np.ndarray] = []
    low_b: list[float] = []
    high_b: list[float] = []
    for row, row_low, row_high in zip(a_rows, a_low, a_high, strict=True):
        rows.append(np.r_[row, np.zeros(len(switches))])
        low_b.append(row_low)
        high_b.append(row_high)
    for s, j in enumerate(switches):  # k * on <= x <= big * on: 0, or k and more
        row = np.zeros(width)
        row[j], row[n + s] = 1.0, -k
        rows.append(row)
        low_b.append(0.0)
        high_b.append(np.inf)
        row = np.zeros(width)
        row[j], row[n + s] = 1.0, -big
        rows.append(row)
        low_b.append(-np.inf)
        high_b.append(0.0)
    constraints = LinearConstraint(np.array(rows), low_b, high_b)
    # "färre än 5" is 1..k-1; a listed (non-empty) row's hidden complement is then at least k
    lower = np.array(
        [1.0 if is_primary(values[key], k) or key in positive else 0.0 for key in cols]
        + [0.0] * len(switches)
    )
    upper = np.array(
        [float(k - 1) if is_primary(values[key], k) else big for key in cols] + [1.0] * len(switches)
    )
    bounds = Bounds(lower, upper)
    integrality = np.ones(width)
    options = {"mip_rel_gap": 0.0}

    def solve(objective: np.ndarray) -> np.ndarray | None:
        result = milp(
            objective, constraints=constraints, integrality=integrality, bounds=bounds, options=options
        )
        return np.round(result.x[:n]) if result.status == 0 else None

    # The true values are one solution; a cell is free when another solution changes it. Two
    # solves that push every undecided cell up, then down, usually free most of them at once;
    # only the rest need a solve of their own.
    truth = np.array([float(values[key]) for key in cols])
    undecided = set(range(n))
    for sign in (-1.0, 1.0):
        if not undecided:
            break
        objective = np.zeros(width)
        objective[list(undecided)] = sign
        x = solve(objective)
        if x is not None:
            undecided -= {j for j in undecided if x[j] != truth[j]}
    found = []
    for key, j in index.items():
        if j not in undecided:
            continue
        objective = np.zeros(width)
        objective[j] = -1.0
        high = solve(objective)
        if high is not None:  # any solution that moves other cells frees them too: fewer solves
            undecided -= {i for i in undecided if i != j and high[i] != truth[i]}
        objective[j] = 1.0
        low = solve(objective) if high is not None and high[j] == truth[j] else None
        if low is not None:
            undecided -= {i for i in undecided if i != j and low[i] != truth[i]}
        if high is not None and low is not None and low[j] == truth[j]:
            found.append(key)
    return found


def _prune(
    keys: Sequence[K],
    lines: Sequence[Line[K]],
    hidden: set[K],
    values: Mapping[K, int],
    k: int,
    required: set[K] | None = None,
) -> set[K]:
    """Show again every complement that turned out not to be needed, largest first.

    Why: the greedy loop adds complements one line at a time, and a complement added early is
    often made redundant by one added later (two small cells in one row protect each other). A
    complement hides a real, usually large, number; showing it again whenever no hidden cell
    becomes derivable keeps the suppression minimal. Largest first, because those carry the most
    information for the reader.
    """
    kept = set(hidden)
    keep = required or set()
    complements = sorted(
        (c for c in hidden if not is_primary(values[c], k) and c not in keep), key=lambda c: -values[c]
    )
    for cell in complements:
        trial = kept - {cell}
        if not _determined(keys, lines, trial):
            kept = trial
    return kept


def _show_pinned_zeros(lines: Sequence[Line[K]], hidden: set[K], values: Mapping[K, int], k: int) -> set[K]:
    """Show again the empty complements that the published numbers pin to 0 anyway.

    Why: counts are never negative, so in a line whose shown total equals the sum of its shown
    cells every hidden cell is 0 — a reader works that out without linear algebra (which
    ``_determined`` does not see). Hiding such a cell protects nobody and labels an empty cell
    "dold för att skydda en liten grupp"; showing it changes nothing a reader can deduce.
    """
    pinned: set[K] = set()
    for line in lines:
        if line.total is None or line.total in hidden:
            continue
        inside = [c for c in line.cells if c in hidden]
        if inside and sum(values[c] for c in inside) == 0:
            pinned.update(inside)
    return hidden - {c for c in pinned if not is_primary(values[c], k)}


def tiny_table(total: int, k: int = MIN_PEOPLE) -> bool:
    """True when a whole table counts fewer than ``k`` people and must be hidden as a whole.

    Why per-cell suppression cannot protect it: every non-empty cell is small, so a cell hidden
    "dold för att skydda en liten grupp" (0 or at least k) is known to be 0, and the rows the
    table lists are known to be non-empty. Four people over three listed units, one of them with
    a small "tillfrågade" and a small "ej tillfrågade", add up to at least four: with the total
    "färre än 5" that pins every number (issue 14). Only the total, as "färre än 5", is said.
    """
    return is_primary(total, k)


def reasons(values: Mapping[K, int], hidden: Iterable[K], k: int = MIN_PEOPLE) -> dict[K, str]:
    """Why each hidden cell is hidden: ``small`` (1..k-1 people) or ``complement``."""
    return {key: SMALL if is_primary(values[key], k) else COMPLEMENT for key in hidden}


# ---------------------------------------------------------------- tables and series
@dataclass(frozen=True)
class SuppressedTable(Generic[R, C]):
    """A two-way table after suppression. ``None`` means "hidden"; ``why`` says why."""

    rows: tuple[R, ...]
    cols: tuple[C, ...]
    cells: dict[tuple[R, C], int | None]
    row_totals: dict[R, int | None]
    col_totals: dict[C, int | None]
    grand_total: int | None
    primary: frozenset[tuple[object, object]] = field(default_factory=frozenset)
    secondary: frozenset[tuple[object, object]] = field(default_factory=frozenset)
    # hidden as a whole (``protect_table``): every cell but the grand total; list no rows then
    whole: bool = False

    def cell(self, row: R, col: C) -> int | None:
        return self.cells.get((row, col))

    def is_hidden(self, row: object, col: object) -> bool:
        return (row, col) in self.primary or (row, col) in self.secondary

    def why(self, row: object, col: object) -> str | None:
        """``small``, ``complement``, ``table`` or None (shown); use ``TOTAL`` for a margin."""
        if (row, col) in self.primary:
            return SMALL
        if (row, col) in self.secondary:
            return TABLE if self.whole else COMPLEMENT
        return None


def suppress_table(
    counts: Mapping[tuple[R, C], int],
    rows: Sequence[R],
    cols: Sequence[C],
    *,
    row_totals: Mapping[R, int] | None = None,
    col_totals: Mapping[C, int] | None = None,
    grand_total: int | None = None,
    k: int = MIN_PEOPLE,
    listed: bool = False,
) -> SuppressedTable[R, C]:
    """Suppress a rows × cols table of distinct-people counts with optional margins.

    Missing cells count as 0. Totals default to sums; pass them when they count distinct people
    (a person in several cells is one person in the total). ``listed``: the rows are shown only
    because they are not empty (the reader knows each row total is at least 1). A table that
    cannot be protected cell by cell, or whose grand total is small, comes back ``whole``.
    """
    values: dict[tuple[object, object], int] = {}
    for r in rows:
        for c in cols:
            values[(r, c)] = int(counts.get((r, c), 0))
    show_row_totals = row_totals is not None
    show_col_totals = col_totals is not None
    lines: list[Line[tuple[object, object]]] = []
    if show_row_totals:
        for r in rows:
            values[(r, TOTAL)] = int(row_totals[r])  # type: ignore[index]
    if show_col_totals:
        for c in cols:
            values[(TOTAL, c)] = int(col_totals[c])  # type: ignore[index]
    show_grand = grand_total is not None
    if show_grand:
        values[(TOTAL, TOTAL)] = int(grand_total)  # type: ignore[arg-type]
    for r in rows:
        lines.append(Line(tuple((r, c) for c in cols), (r, TOTAL) if show_row_totals else None))
    for c in cols:
        lines.append(Line(tuple((r, c) for r in rows), (TOTAL, c) if show_col_totals else None))
    if show_grand and show_row_totals:
        lines.append(Line(tuple((r, TOTAL) for r in rows), (TOTAL, TOTAL)))
    if show_grand and show_col_totals:
        lines.append(Line(tuple((TOTAL, c) for c in cols), (TOTAL, TOTAL)))
    if show_grand and not show_row_totals and not show_col_totals:
        lines.append(Line(tuple((r, c) for r in rows for c in cols), (TOTAL, TOTAL)))
    # Lines without a total only matter when some total is shown; drop them otherwise.
    if not (show_row_totals or show_col_totals or show_grand):
        lines = []
    else:
        lines = [line for line in lines if line.total is not None]
    positive: list[tuple[object, object]] = []
    if listed and show_row_totals:
        positive = [(r, TOTAL) for r in rows if values.get((r, TOTAL), 0) > 0]
    hidden: frozenset[tuple[object, object]]
    hidden, whole = protect_table(values, lines, k, positive)
    if show_grand and (whole or tiny_table(values[(TOTAL, TOTAL)], k)):
        whole = True
        grand: set[tuple[object, object]] = set()
        if not tiny_table(values[(TOTAL, TOTAL)], k):
            grand.add((TOTAL, TOTAL))
        hidden = frozenset(values) - grand
        primary: frozenset[tuple[object, object]] = frozenset({(TOTAL, TOTAL)} - grand)
    else:
        whole = False
        primary = frozenset(key for key in hidden if is_primary(values[key], k))
    secondary = frozenset(hidden - primary)

    def shown(key: tuple[object, object]) -> int | None:
        return None if key in hidden else values[key]

    return SuppressedTable(
        rows=tuple(rows),
        cols=tuple(cols),
        cells={(r, c): shown((r, c)) for r in rows for c in cols},
        row_totals={r: shown((r, TOTAL)) for r in rows} if show_row_totals else {},
        col_totals={c: shown((TOTAL, c)) for c in cols} if show_col_totals else {},
        grand_total=shown((TOTAL, TOTAL)) if show_grand else None,
        primary=primary,
        secondary=secondary,
        whole=whole,
    )


@dataclass(frozen=True)
class SuppressedSeries(Generic[K]):
    values: dict[K, int | None]
    total: int | None
    primary: frozenset[object]
    secondary: frozenset[object]

    def why(self, key: object) -> str | None:
        """``small``, ``complement`` or None (shown); ``TOTAL`` for the total."""
        if key in self.primary:
            return SMALL
        return COMPLEMENT if key in self.secondary else None


def suppress_series(
    counts: Mapping[K, int], *, total: int | None = None, k: int = MIN_PEOPLE
) -> SuppressedSeries[K]:
    """One-way counts of exclusive categories (e.g. positive/negative, kept/returned) with an
    optional total that must not leak; a total from fewer than ``k`` people hides every value."""
    values: dict[object, int] = {key: int(v) for key, v in counts.items()}
    lines: list[Line[object]] = []
    if total is not None:
        values[TOTAL] = int(total)
        lines.append(Line(tuple(counts), TOTAL))
    hidden = set(protect(values, lines, k))
    if TOTAL in hidden and is_primary(values[TOTAL], k):
        # The categories of a series are exclusive: "0 positive" beside 3 people in all says that
        # all three were negative, so every value of a too-small series is hidden, zeros too.
        hidden.update(counts)
    primary = frozenset(key for key in hidden if is_primary(values[key], k))
    return SuppressedSeries(
        values={key: (None if key in hidden else int(v)) for key, v in counts.items()},
        total=None if total is None or TOTAL in hidden else int(total),
        primary=primary,
        secondary=frozenset(hidden - primary),
    )


def hidden_label(reason: object) -> str:
    """The Swedish words for a hidden number, by its reason code.

    Only a primary cell may say "färre än 5": a complement is usually a large number, and calling
    it small misleads the reader (issue 14: 83 of 95 shown as "färre än 5").
    """
    if reason == SMALL:
        return SUPPRESSED_SV
    if reason == COMPLEMENT:
        return COMPLEMENT_SV
    if reason == TABLE:
        return TABLE_SV
    return HIDDEN_SV


def display(value: int | None, reason: object = None) -> str:
    """How a possibly hidden count is written on screen and in exports."""
    return hidden_label(reason) if value is None else str(value)


def share_range(base: int | None, small_part: bool, k: int = MIN_PEOPLE) -> tuple[float, float] | None:
    """The range a hidden share must lie in, from published numbers only.

    For two exclusive categories with a published base where one category is small (1..k-1,
    published as "färre än 5") and the other is hidden as its complement, the complement's share
    lies in [(base-(k-1))/base, (base-1)/base] and the small one's in [1/base, (k-1)/base]. A reader
    can already work that out from "färre än 5" and the base, so showing it reveals nothing more,
    yet "minst 96 %" says far more than a hidden cell (e.g. sustained self-sufficiency).
    """
    if base is None or base < k:
        return None
    if small_part:
        return (1 / base, (k - 1) / base)
    return ((base - (k - 1)) / base, (base - 1) / base)


def share(part: int | None, whole: int | None) -> float | None:
    """A share is hidden whenever its numerator or denominator is hidden."""
    if part is None or whole is None or whole <= 0:
        return None
    return part / whole


# ---------------------------------------------------------------- "slå ihop enheter"
@dataclass(frozen=True)
class MergeSuggestion(Generic[K]):
    """Units that together reach the threshold; offered instead of widening other filters."""

    units: tuple[K, ...]
    people: int


def merge_suggestions(people_by_unit: Mapping[K, int], k: int = MIN_PEOPLE) -> list[MergeSuggestion[K]]:
    """Group every too-small unit with the next-smallest units until the group reaches ``k``.

    Greedy, smallest first, so groups stay as small as possible. If the whole set cannot reach
    ``k``, the remaining small units form one group that is still too small (``people < k``), and
    the caller says so rather than showing numbers.
    """
    small = sorted(
        (u for u, n in people_by_unit.items() if 0 < n < k), key=lambda u: (people_by_unit[u], str(u))
    )
    if not small:
        return []
    large = sorted(
        (u for u, n in people_by_unit.items() if n >= k), key=lambda u: (people_by_unit[u], str(u))
    )
    suggestions: list[MergeSuggestion[K]] = []
    group: list[K] = []
    people = 0
    for unit in small:
        group.append(unit)
        people += people_by_unit[unit]
        if people >= k:
            suggestions.append(MergeSuggestion(tuple(group), people))
            group, people = [], 0
    if group:
        if large:
            partner = large[0]
            group.append(partner)
            people += people_by_unit[partner]
        elif suggestions:  # fold the leftover into the last group
            last = suggestions.pop()
            group = [*last.units, *group]
            people += last.people
        suggestions.append(MergeSuggestion(tuple(group), people))
    return suggestions
