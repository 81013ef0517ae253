"""The template diff's hunks and word marks (app/services/templates/diff.py), pure functions."""

from __future__ import annotations

from app.services.templates.diff import (
    MAX_WORD_DIFF_TOKENS,
    Piece,
    hunks_of,
    word_diff,
)


def lines(count: int) -> list[str]:
    return [f"<p>Ligne {n}</p>" for n in range(1, count + 1)]


def marked(pieces: list[Piece] | None) -> list[str]:
    return [piece.text for piece in pieces or [] if piece.changed]


def test_one_changed_line_of_300_gives_one_hunk_with_three_lines_of_context():
    old = lines(300)
    new = list(old)
    new[149] = "<p>Ligne modifiée</p>"
    diff = hunks_of(old, new)
    assert len(diff.hunks) == 1
    hunk = diff.hunks[0]
    assert [(row.tag, row.left_number, row.right_number) for row in hunk.rows] == [
        ("equal", 147, 147),
        ("equal", 148, 148),
        ("equal", 149, 149),
        ("replace", 150, 150),
        ("equal", 151, 151),
        ("equal", 152, 152),
        ("equal", 153, 153),
    ]
    assert hunk.number == 1 and hunk.line == 150
    assert hunk.hidden_before == 146 and diff.hidden_after == 147
    assert marked(hunk.rows[3].left) == ["150"]
    assert marked(hunk.rows[3].right) == ["modifiée"]


def test_distant_changes_are_separate_hunks_and_close_ones_merge():
    old = lines(40)
    new = list(old)
    new[4] = "<p>cinq</p>"  # line 5
    new[8] = "<p>neuf</p>"  # line 9: within 2 x 3 lines of line 5, same hunk
    new[34] = "<p>trente-cinq</p>"  # line 35: a hunk of its own
    diff = hunks_of(old, new)
    assert [hunk.line for hunk in diff.hunks] == [5, 35]
    assert [hunk.number for hunk in diff.hunks] == [1, 2]
    first, second = diff.hunks
    assert first.hidden_before == 1  # line 1; lines 2-4 are context
    assert first.rows[-1].left_number == 12
    assert second.hidden_before == 19  # lines 13-31 between the hunks
    assert diff.hidden_after == 2  # lines 39-40
    shown = sum(len(hunk.rows) for hunk in diff.hunks)
    hidden = sum(hunk.hidden_before for hunk in diff.hunks) + diff.hidden_after
    assert shown + hidden == 40


def test_inserted_and_deleted_lines_at_the_edges():
    diff = hunks_of(["a", "b"], ["nouveau", "a"])
    rows = diff.hunks[0].rows
    assert [(row.tag, row.left_number, row.right_number) for row in rows] == [
        ("insert", None, 1),
        ("equal", 1, 2),
        ("delete", 2, None),
    ]
    assert diff.hunks[0].hidden_before == 0 and diff.hidden_after == 0
    only_added = hunks_of(["a"], ["a", "b"])
    assert only_added.hunks[0].rows[-1].tag == "insert"
    assert only_added.hunks[0].rows[-1].left is None
    assert only_added.hunks[0].line == 2
    removed = hunks_of(["a", "b"], ["a"])
    assert removed.hunks[0].line == 2  # the old version's line: nothing left in the new one
    assert removed.hidden_after == 0


def test_identical_versions_have_no_hunk():
    assert hunks_of(lines(5), lines(5)).identical
    assert hunks_of([], []).identical


def test_word_diff_marks_only_the_changed_words():
    left, right = word_diff(
        "<p>Contrat {{ policy.number }} du {{ today }}</p>",
        "<p>Police {{ policy.number }} du {{ policy.effective_date }}</p>",
    )
    assert marked(left) == ["Contrat", "today"]
    assert marked(right) == ["Police", "policy.effective_date"]
    # Pieces put back together are the lines, character for character.
    assert (
        "".join(piece.text for piece in left) == "<p>Contrat {{ policy.number }} du {{ today }}</p>"
    )


def test_a_huge_line_is_marked_whole_rather_than_compared_word_by_word():
    old = " ".join(["mot"] * MAX_WORD_DIFF_TOKENS)
    left, right = word_diff(old, old + " fin")
    assert left == [Piece(old, True)] and right == [Piece(old + " fin", True)]
