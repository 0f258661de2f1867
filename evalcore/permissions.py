"""Who may do what: roles, the acting user, and the one table of rules.

Every service function calls :func:`require` before it touches data, so a page opened
by URL or a doctored session state grants nothing. The rules depend only on the role
and, for reading results, on the round's status (viewers see results once published).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from evalcore.errors import PermissionDenied
from evalcore.lifecycle import RoundStatus


class Role(StrEnum):
    ADMIN = "admin"
    JUDGE = "judge"
    VIEWER = "viewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {Role.ADMIN: "管理员", Role.JUDGE: "评委", Role.VIEWER: "查看者"}


class Action(StrEnum):
    VIEW_PROGRESS = "view_progress"  # how far scoring has come, no scores
    VIEW_RESULTS = "view_results"  # rankings, charts, exports of results
    VIEW_JUDGE_SCORES = "view_judge_scores"  # every judge's raw scores and comments
    SCORE = "score"  # enter one's own scores (a judge)
    IMPORT_SCORES = "import_scores"  # upload score sheets for any judge
    MANAGE_ROUNDS = "manage_rounds"  # lifecycle, settings, new rounds
    EDIT_RUBRIC = "edit_rubric"
    MANAGE_ROSTER = "manage_roster"  # units, branches, brands, judges
    MANAGE_ASSIGNMENTS = "manage_assignments"
    MANAGE_USERS = "manage_users"
    REOPEN_SHEET = "reopen_sheet"  # reopen a judge's submitted sheet
    VIEW_AUDIT = "view_audit"


ACTION_LABELS = {
    Action.VIEW_PROGRESS: "查看评分进度",
    Action.VIEW_RESULTS: "查看评审结果",
    Action.VIEW_JUDGE_SCORES: "查看评委明细",
    Action.SCORE: "录入评分",
    Action.IMPORT_SCORES: "导入评分表",
    Action.MANAGE_ROUNDS: "管理评审轮次",
    Action.EDIT_RUBRIC: "编辑评分细则",
    Action.MANAGE_ROSTER: "管理单位、支部和品牌",
    Action.MANAGE_ASSIGNMENTS: "分配评委",
    Action.MANAGE_USERS: "管理用户",
    Action.REOPEN_SHEET: "退回评分表",
    Action.VIEW_AUDIT: "查看操作日志",
}

#: Actions a role may take in any round state.
ALWAYS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.JUDGE: frozenset({Action.SCORE, Action.VIEW_PROGRESS}),
    Role.VIEWER: frozenset({Action.VIEW_PROGRESS}),
}
#: Actions a role gains once the round is published. Judges stay blind to each other.
WHEN_PUBLISHED: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(),
    Role.JUDGE: frozenset({Action.VIEW_RESULTS}),
    Role.VIEWER: frozenset({Action.VIEW_RESULTS, Action.VIEW_JUDGE_SCORES}),
}


@dataclass(frozen=True)
class Actor:
    """The user on whose behalf a service runs; ``source`` is recorded in the audit trail."""

    username: str
    role: Role
    user_id: int | None = None
    judge_id: int | None = None
    source: str = "web"

    @classmethod
    def cli(cls) -> Actor:
        """The command line acts as the server's operator: an admin, recorded as CLI."""
        return cls(username="命令行", role=Role.ADMIN, source="cli")


def can(actor: Actor, action: Action, round_status: str | None = None) -> bool:
    if action in ALWAYS[actor.role]:
        return True
    published = round_status is not None and RoundStatus(round_status) is RoundStatus.PUBLISHED
    return published and action in WHEN_PUBLISHED[actor.role]


def require(actor: Actor, action: Action, round_status: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may take ``action``."""
    if can(actor, action, round_status):
        return
    hint = "，评审结果发布后方可查看" if action in WHEN_PUBLISHED[actor.role] else ""
    raise PermissionDenied(
        f"当前账号（{actor.role.label}）无权{ACTION_LABELS[action]}{hint}",
        role=actor.role.value,
        action=action.value,
    )
