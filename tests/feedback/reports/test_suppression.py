"""Small-cell suppression: primary, complementary, and that no hidden cell can be derived."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from feedback.reports.suppression import (
    COMPLEMENT_SV,
    SUPPRESSED_SV,
    TOTAL,
    display,
    merge_suggestions,
    protect,
    share,
    share_range,
    suppress_series,
    suppress_table,
)


def _table(grid: list[list[int]]) -> tuple[dict[tuple[int, int], int], list[int], list[int]]:
    rows = list(range(len(grid)))
    cols = list(range(len(grid[0])))
    return {(r, c): grid[r][c] for r in rows for c in cols}, rows, cols


def _additive(grid: list[list[int]]):
    counts, rows, cols = _table(grid)
    row_totals = {r: sum(grid[r]) for r in rows}
    col_totals = {c: sum(grid[r][c] for r in rows) for c in cols}
    grand = sum(row_totals.values())
    table = suppress_table(
        counts, rows, cols, row_totals=row_totals, col_totals=col_totals, grand_total=grand
    )
    return table, counts, rows, cols, row_totals, col_totals, grand


def _published_bounds(table, counts, rows, cols, row_totals, col_totals, grand):
    """For every hidden cell, the min and max an attacker can infer with an LP over the table.

    Unknowns are the hidden cells (inner and margins), all >= 0; equations are the additive
    row, column and margin sums with the visible numbers plugged in.
    """
    values = dict(counts)
    values.update({(r, TOTAL): row_totals[r] for r in rows})
    values.update({(TOTAL, c): col_totals[c] for c in cols})
    values[(TOTAL, TOTAL)] = grand
    hidden = sorted(table.primary | table.secondary, key=repr)
    index = {key: i for i, key in enumerate(hidden)}
    equations = []
    for r in [*rows, TOTAL]:
        equations.append(([(r, c) for c in cols], (r, TOTAL)))
    for c in [*cols, TOTAL]:
        equations.append(([(r, c) for r in rows], (TOTAL, c)))
    a_eq, b_eq = [], []
    for members, total in equations:
        row = np.zeros(len(hidden))
        rhs = 0.0
        for key, sign in [*((m, 1.0) for m in members), (total, -1.0)]:
            if key in index:
                row[index[key]] += sign
            else:
                rhs -= sign * values[key]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    bounds = {}
    for key, i in index.items():
        objective = np.zeros(len(hidden))
        objective[i] = 1.0
        low = linprog(objective, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None))
        high = linprog(-objective, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None))
        assert low.status == 0 and high.status in (0, 3)
        bounds[key] = (low.fun, None if high.status == 3 else -high.fun)
    return bounds, values


grids = st.integers(1, 5).flatmap(
    lambda n_rows: st.integers(1, 5).flatmap(
        lambda n_cols: st.lists(
            st.lists(st.one_of(st.integers(0, 12), st.integers(0, 4)), min_size=n_cols, max_size=n_cols),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids)
def test_no_small_cell_is_shown_and_no_line_has_a_single_hidden_cell(grid: list[list[int]]) -> None:
    table, counts, rows, cols, row_totals, col_totals, grand = _additive(grid)
    shown = [v for v in table.cells.values() if v is not None]
    shown += [v for v in table.row_totals.values() if v is not None]
    shown += [v for v in table.col_totals.values() if v is not None]
    shown += [table.grand_total] if table.grand_total is not None else []
    assert all(v == 0 or v >= 5 for v in shown)
    hidden = table.primary | table.secondary
    lines = [[(r, c) for c in [*cols, TOTAL]] for r in [*rows, TOTAL]]
    lines += [[(r, c) for r in [*rows, TOTAL]] for c in [*cols, TOTAL]]
    for line in lines:
        assert sum(1 for key in line if key in hidden) != 1, (grid, line, hidden)
    values = dict(counts) | {(r, TOTAL): row_totals[r] for r in rows}
    values |= {(TOTAL, c): col_totals[c] for c in cols} | {(TOTAL, TOTAL): grand}
    if table.whole:
        # Hidden as a whole (issue 14: a table of fewer than 5 people, or one its labels would
        # pin): every number but a grand total of 5 or more is hidden; the only "färre än 5" is
        # a small grand total, every other hidden number says "för få i tabellen".
        assert hidden == frozenset(values) - ({(TOTAL, TOTAL)} if grand >= 5 else set())
        assert table.primary == (frozenset({(TOTAL, TOTAL)}) if 0 < grand < 5 else frozenset())
        assert all(table.why(*key) == "table" for key in hidden - table.primary)
        return
    # Every primary cell is hidden, and it is exactly the cells with 1..4 people.
    assert table.primary == frozenset(k for k, v in values.items() if 0 < v < 5)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids)
def test_no_hidden_cell_can_be_derived_from_the_published_numbers(grid: list[list[int]]) -> None:
    table, *rest = _additive(grid)
    bounds, values = _published_bounds(table, *rest)
    for key, (low, high) in bounds.items():
        # An attacker who solves the sums must not pin a hidden cell to one value.
        assert high is None or high - low > 0.5, (grid, key, values[key], low, high)


def test_three_respondent_unit_is_hidden_and_total_does_not_give_it_away() -> None:
    # Units as columns, one row "respondents"; unit C has 3 people.
    counts = {("svar", "A"): 40, ("svar", "B"): 12, ("svar", "C"): 3}
    table = suppress_table(
        counts, ["svar"], ["A", "B", "C"], row_totals={"svar": 55}, col_totals=None, grand_total=None
    )
    assert table.cell("svar", "C") is None
    assert table.cell("svar", "B") is None  # the complement: next-smallest in the row
    assert table.cell("svar", "A") == 40
    assert table.row_totals["svar"] == 55
    assert ("svar", "C") in table.primary and ("svar", "B") in table.secondary
    # only the small cell says "färre än 5"; its complement (12 people) says why it is hidden
    assert display(table.cell("svar", "C"), table.why("svar", "C")) == SUPPRESSED_SV
    assert display(table.cell("svar", "B"), table.why("svar", "B")) == COMPLEMENT_SV


def test_complement_prefers_non_empty_cells_and_falls_back_to_total() -> None:
    series = suppress_series({"a": 3, "b": 0, "c": 50}, total=53)
    assert series.values == {"a": None, "b": 0, "c": None}
    assert series.total == 53
    only = suppress_series({"a": 3}, total=3)
    assert only.values == {"a": None} and only.total is None


def test_bridge_between_two_protected_blocks_is_closed() -> None:
    # Exactly two hidden cells per line can still leave one cell fixed when hidden cells form two
    # cycles joined by one cell; the rank check catches this and hides more.
    grid = [[3, 3, 50, 50], [3, 3, 50, 50], [50, 50, 3, 3], [50, 50, 3, 3]]
    table, *rest = _additive(grid)
    bounds, _ = _published_bounds(table, *rest)
    assert all(high is None or high - low > 0.5 for low, high in bounds.values())


def test_no_totals_means_only_primary_cells_are_hidden() -> None:
    counts = {(0, 0): 2, (0, 1): 9, (1, 0): 7, (1, 1): 8}
    table = suppress_table(counts, [0, 1], [0, 1])
    assert table.cells == {(0, 0): None, (0, 1): 9, (1, 0): 7, (1, 1): 8}
    assert not table.secondary


def test_protect_is_deterministic_and_idempotent() -> None:
    values = {i: v for i, v in enumerate([1, 9, 9, 7, 30])}
    values["t"] = sum(v for v in values.values())
    from feedback.reports.suppression import Line

    line = Line(tuple(range(5)), "t")
    first = protect(values, [line])
    assert first == protect(values, [line]) == frozenset({0, 3})


def test_share_hides_with_numerator_or_denominator() -> None:
    assert share(None, 10) is None and share(5, None) is None and share(5, 0) is None
    assert share(5, 10) == 0.5


def test_merge_suggestions_reach_five() -> None:
    suggestions = merge_suggestions({"a": 3, "b": 1, "c": 40, "d": 2})
    assert [set(s.units) for s in suggestions] == [{"b", "d", "a"}]
    assert suggestions[0].people == 6
    assert merge_suggestions({"a": 7, "b": 9}) == []
    # One small unit and no other small ones: merge with the smallest large unit.
    lone = merge_suggestions({"a": 2, "b": 30, "c": 8})
    assert lone[0].units == ("a", "c") and lone[0].people == 10


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 30), max_size=8))
def test_merge_suggestions_cover_every_small_unit(people: dict[str, int]) -> None:
    suggestions = merge_suggestions(people)
    grouped = list(itertools.chain.from_iterable(s.units for s in suggestions))
    assert len(grouped) == len(set(grouped))
    assert {u for u, n in people.items() if 0 < n < 5} <= set(grouped)
    total_people = sum(people.values())
    for suggestion in suggestions:
        assert suggestion.people == sum(people[u] for u in suggestion.units)
        assert suggestion.people >= 5 or suggestion.people == total_people


def test_zero_beside_a_small_series_total_is_hidden() -> None:
    # 3 people, none positive: showing "0 positive" would tell that all three were negative
    series = suppress_series({"pos": 0, "neg": 3}, total=3)
    assert series.values == {"pos": None, "neg": None} and series.total is None
    # with a total of five or more a zero reveals nobody and stays
    assert suppress_series({"pos": 0, "neg": 7}, total=7).values == {"pos": 0, "neg": 7}


def test_a_complement_is_labelled_as_such_and_a_share_is_shown_as_a_range() -> None:
    # issue 14: "not re-registered after 3 months" 101 of 103 was hidden as "färre än 5"
    series = suppress_series({"kept": 101, "returned": 2}, total=103)
    assert series.values == {"kept": None, "returned": None} and series.total == 103
    assert series.why("returned") == "small" and series.why("kept") == "complement"
    assert display(series.values["kept"], series.why("kept")) == COMPLEMENT_SV
    low, high = share_range(103, small_part=False) or (0.0, 0.0)
    assert low <= 101 / 103 <= high and round(low * 100) >= 96
    assert share_range(103, small_part=True) == (1 / 103, 4 / 103)
    assert share_range(4, small_part=False) is None  # a base under five is never shown


def test_complements_made_redundant_later_are_shown_again() -> None:
    # Two small cells in one row protect each other once their columns are protected: the greedy
    # pass also hides the row's large cells on the way; pruning shows them again.
    grid = [[3, 2, 40, 50], [20, 30, 41, 60]]
    counts, rows, cols = _table(grid)
    table = suppress_table(
        counts,
        rows,
        cols,
        row_totals={r: sum(grid[r]) for r in rows},
        col_totals={c: sum(grid[r][c] for r in rows) for c in cols},
        grand_total=sum(map(sum, grid)),
    )
    assert table.primary == {(0, 0), (0, 1)}
    assert table.secondary == {(1, 0), (1, 1)}  # the least that keeps 3 and 2 underivable
    assert table.cell(0, 2) == 40 and table.cell(1, 3) == 60


def test_a_table_of_fewer_than_five_is_hidden_as_a_whole() -> None:
    """Four people: per-cell labels would say which cells are 0 ("dold för att skydda…" is 0 or
    at least 5) and which rows exist; only "färre än 5" for the total may be said."""
    from feedback.reports.suppression import TABLE, hidden_label

    counts, rows, cols = _table([[1, 0], [2, 1]])
    table = suppress_table(
        counts, rows, cols, row_totals={0: 1, 1: 3}, col_totals={0: 3, 1: 1}, grand_total=4, listed=True
    )
    assert table.whole
    assert table.grand_total is None and table.why(TOTAL, TOTAL) == "small"
    assert all(v is None for v in table.cells.values())
    assert {table.why(r, c) for r in [*rows, TOTAL] for c in [*cols, TOTAL]} == {TABLE, "small"}
    assert "färre än 5" not in hidden_label(TABLE)


def test_a_larger_table_is_protected_cell_by_cell() -> None:
    counts, rows, cols = _table([[1, 9], [8, 7]])
    table = suppress_table(
        counts, rows, cols, row_totals={0: 10, 1: 15}, col_totals={0: 9, 1: 16}, grand_total=25, listed=True
    )
    assert not table.whole and table.why(0, 0) == "small" and table.grand_total == 25
