"""The round lifecycle 筹备 → 评分中 → 已锁定 → 已发布, and which moves are allowed.

Forward moves need no reason; a move back (reopening scoring, unlocking, withdrawing a
publication) needs one, because it changes what people were told was final.
"""

from __future__ import annotations

from enum import StrEnum

from evalcore.errors import Conflict, InvalidInput


class RoundStatus(StrEnum):
    DRAFT = "draft"
    SCORING = "scoring"
    LOCKED = "locked"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return ROUND_STATUS_LABELS[self]


ROUND_STATUS_LABELS: dict[RoundStatus, str] = {
    RoundStatus.DRAFT: "筹备",
    RoundStatus.SCORING: "评分中",
    RoundStatus.LOCKED: "已锁定",
    RoundStatus.PUBLISHED: "已发布",
}
ORDER = list(RoundStatus)
#: Named moves, as the CLI and the admin page offer them: verb -> (from, to).
MOVES: dict[str, tuple[RoundStatus, RoundStatus]] = {
    "open": (RoundStatus.DRAFT, RoundStatus.SCORING),
    "lock": (RoundStatus.SCORING, RoundStatus.LOCKED),
    "publish": (RoundStatus.LOCKED, RoundStatus.PUBLISHED),
    "unlock": (RoundStatus.LOCKED, RoundStatus.SCORING),
    "unpublish": (RoundStatus.PUBLISHED, RoundStatus.LOCKED),
    "reset": (RoundStatus.SCORING, RoundStatus.DRAFT),
}
MOVE_LABELS = {
    "open": "开始评分",
    "lock": "锁定",
    "publish": "发布",
    "unlock": "解锁（退回评分中）",
    "unpublish": "撤回发布",
    "reset": "退回筹备",
}


def is_backward(move: str) -> bool:
    start, end = MOVES[move]
    return ORDER.index(end) < ORDER.index(start)


def check_move(current: str, move: str, reason: str | None = None) -> RoundStatus:
    """The status after ``move`` from ``current``; refuse impossible or unexplained moves."""
    if move not in MOVES:
        raise InvalidInput(f"未知的轮次操作：{move}，可选 {'、'.join(MOVES)}")
    start, end = MOVES[move]
    now = RoundStatus(current)
    if now is not start:
        raise Conflict(
            f"当前状态为「{now.label}」，不能执行「{MOVE_LABELS[move]}」"
            f"（该操作只适用于「{start.label}」状态的轮次）",
            status=now.value,
            move=move,
        )
    if is_backward(move) and not (reason and reason.strip()):
        raise InvalidInput(f"「{MOVE_LABELS[move]}」需要填写原因")
    return end


def scores_writable(status: str) -> bool:
    """Judges and imports may write scores only while the round is 评分中."""
    return RoundStatus(status) is RoundStatus.SCORING


def require_scoring(status: str, round_code: str) -> None:
    if not scores_writable(status):
        raise Conflict(
            f"轮次 {round_code} 当前为「{RoundStatus(status).label}」，"
            "只有「评分中」的轮次可以录入评分",
            status=status,
        )


def rubric_editable(status: str) -> bool:
    """The rubric is frozen once scoring starts."""
    return RoundStatus(status) is RoundStatus.DRAFT
