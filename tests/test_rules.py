"""Pure rules of issue 4: the round lifecycle, the permission table, passwords and tokens."""

from __future__ import annotations

import pytest

from evalcore import auth
from evalcore.errors import Conflict, InvalidInput, PermissionDenied
from evalcore.lifecycle import MOVES, RoundStatus, check_move, require_scoring, rubric_editable
from evalcore.permissions import Action, Actor, Role, can, require

ADMIN = Actor("admin", Role.ADMIN)
JUDGE = Actor("judge", Role.JUDGE, judge_id=1)
VIEWER = Actor("viewer", Role.VIEWER)


@pytest.mark.parametrize(
    ("current", "move", "reason", "after"),
    [
        ("draft", "open", None, "scoring"),
        ("scoring", "lock", None, "locked"),
        ("locked", "publish", None, "published"),
        ("locked", "unlock", "评委补录", "scoring"),
        ("published", "unpublish", "数据有误", "locked"),
        ("scoring", "reset", "细则需调整", "draft"),
    ],
)
def test_allowed_moves(current, move, reason, after) -> None:
    assert check_move(current, move, reason) == RoundStatus(after)


@pytest.mark.parametrize(
    ("current", "move"), [("draft", "lock"), ("published", "publish"), ("scoring", "unlock")]
)
def test_impossible_moves_are_conflicts(current, move) -> None:
    with pytest.raises(Conflict, match="不能执行"):
        check_move(current, move, "原因")


@pytest.mark.parametrize("move", [m for m in MOVES if m in ("unlock", "unpublish", "reset")])
def test_moving_back_needs_a_reason(move) -> None:
    start = MOVES[move][0].value
    for reason in (None, "", "   "):
        with pytest.raises(InvalidInput, match="原因"):
            check_move(start, move, reason)


def test_scores_and_rubric_writability_follow_status() -> None:
    require_scoring("scoring", "2026")
    for status in ("draft", "locked", "published"):
        with pytest.raises(Conflict, match="评分中"):
            require_scoring(status, "2026")
    assert rubric_editable("draft") and not rubric_editable("scoring")


@pytest.mark.parametrize(
    ("actor", "action", "status", "allowed"),
    [
        (ADMIN, Action.MANAGE_USERS, None, True),
        (ADMIN, Action.VIEW_RESULTS, "scoring", True),
        (JUDGE, Action.SCORE, "scoring", True),
        (JUDGE, Action.VIEW_RESULTS, "scoring", False),
        (JUDGE, Action.VIEW_RESULTS, "published", True),
        (JUDGE, Action.VIEW_JUDGE_SCORES, "published", False),  # blind, even afterwards
        (JUDGE, Action.IMPORT_SCORES, "scoring", False),
        (VIEWER, Action.VIEW_PROGRESS, "scoring", True),
        (VIEWER, Action.VIEW_RESULTS, "locked", False),
        (VIEWER, Action.VIEW_RESULTS, "published", True),
        (VIEWER, Action.SCORE, "scoring", False),
        (VIEWER, Action.MANAGE_ROUNDS, "published", False),
        (VIEWER, Action.VIEW_AUDIT, None, False),
    ],
)
def test_permission_table(actor, action, status, allowed) -> None:
    assert can(actor, action, status) is allowed
    if allowed:
        require(actor, action, status)
    else:
        with pytest.raises(PermissionDenied, match="无权"):
            require(actor, action, status)


def test_cli_actor_is_an_admin_recorded_as_cli() -> None:
    cli = Actor.cli()
    assert cli.role is Role.ADMIN and cli.source == "cli"


def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    hashed = auth.hash_password("correct horse")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert auth.verify_password(hashed, "correct horse")
    assert not auth.verify_password(hashed, "wrong horse")
    assert not auth.verify_password(None, "correct horse")  # unknown user
    assert not auth.verify_password("not-a-hash", "x")


@pytest.mark.parametrize("password", ["short", " leading-space", "trailing-space "])
def test_password_policy(password) -> None:
    with pytest.raises(InvalidInput):
        auth.hash_password(password)


def test_signed_tokens_reject_tampering() -> None:
    token = auth.new_token()
    cookie = auth.sign(token, "secret")
    assert auth.unsign(cookie, "secret") == token
    assert auth.unsign(cookie, "other-secret") is None
    assert auth.unsign(cookie[:-1] + ("0" if cookie[-1] != "0" else "1"), "secret") is None
    assert auth.unsign(token, "secret") is None
    assert auth.unsign(None, "secret") is None
    assert auth.token_digest(token) != token and len(auth.token_digest(token)) == 64


@pytest.mark.parametrize(("failures", "delay"), [(0, 0), (2, 0), (3, 2), (4, 4), (5, 8), (20, 60)])
def test_login_delay_grows_after_repeated_failures(failures, delay) -> None:
    assert auth.login_delay(failures) == delay
