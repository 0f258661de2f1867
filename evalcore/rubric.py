"""The rubric: the six "有" criteria, their sub-indicators (二级指标) and bonus items (加分项).

A rubric is a value object stored with each round (rounds may change it), so it
serialises to and from plain dicts. Totals are always computed from the items, never
typed in, and :func:`Rubric.validate` rejects anything a judge could not score against.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from evalcore.errors import InvalidInput

#: The six criteria, in their fixed order: code -> (short label, full text).
CRITERIA: dict[str, tuple[str, str]] = {
    "name": ("品牌名称", "有鲜明的品牌名称"),
    "connotation": ("品牌内涵", "有深刻的品牌内涵"),
    "mechanism": ("创建机制", "有完善的创建机制"),
    "carriers": ("活动载体", "有丰富的活动载体"),
    "standards": ("服务规范", "有标准的服务规范"),
    "impact": ("群众影响", "有良好的群众影响"),
}
CRITERION_CODES: tuple[str, ...] = tuple(CRITERIA)
BONUS = "bonus"


@dataclass(frozen=True)
class Item:
    """A sub-indicator (二级指标) or a bonus item, scored from 0 to ``max_points``."""

    code: str
    label: str
    max_points: float
    guide: str = ""
    deductions: str = ""


@dataclass(frozen=True)
class Criterion:
    """A level-1 criterion; its maximum is the sum of its items."""

    code: str
    label: str
    full_label: str
    items: tuple[Item, ...]

    @property
    def max_points(self) -> float:
        return sum(i.max_points for i in self.items)


@dataclass(frozen=True)
class Rubric:
    """Criteria plus optional bonus items whose sum is capped at ``bonus_cap``."""

    criteria: tuple[Criterion, ...]
    bonus_items: tuple[Item, ...] = ()
    bonus_cap: float = 0.0
    version: int = 1

    # -- derived views -------------------------------------------------------------
    @property
    def criteria_max(self) -> float:
        return sum(c.max_points for c in self.criteria)

    @property
    def max_total(self) -> float:
        return self.criteria_max + self.effective_bonus_cap

    @property
    def effective_bonus_cap(self) -> float:
        """The bonus can never exceed what its items allow, whatever the cap says."""
        return min(self.bonus_cap, sum(i.max_points for i in self.bonus_items))

    def criterion(self, code: str) -> Criterion:
        for c in self.criteria:
            if c.code == code:
                return c
        raise KeyError(code)

    def scored_items(self) -> Iterator[tuple[str, Item]]:
        """Every item with its group: the criterion code, or ``"bonus"``."""
        for c in self.criteria:
            for item in c.items:
                yield c.code, item
        for item in self.bonus_items:
            yield BONUS, item

    @property
    def item_codes(self) -> list[str]:
        return [item.code for _, item in self.scored_items()]

    @property
    def criterion_item_codes(self) -> list[str]:
        return [item.code for c in self.criteria for item in c.items]

    @property
    def bonus_item_codes(self) -> list[str]:
        return [item.code for item in self.bonus_items]

    def item_group(self) -> dict[str, str]:
        """Map item code -> criterion code (or ``"bonus"``)."""
        return {item.code: group for group, item in self.scored_items()}

    def item_max(self) -> dict[str, float]:
        return {item.code: item.max_points for _, item in self.scored_items()}

    def item_labels(self) -> dict[str, str]:
        """Map item code -> ``<criterion>-<item>`` as shown in tables and sheets."""
        labels = {}
        for group, item in self.scored_items():
            prefix = "加分项" if group == BONUS else self.criterion(group).label
            labels[item.code] = f"{prefix}-{item.label}"
        return labels

    def criterion_max(self) -> dict[str, float]:
        return {c.code: c.max_points for c in self.criteria}

    def criterion_labels(self) -> dict[str, str]:
        return {c.code: c.label for c in self.criteria}

    # -- validation and (de)serialisation -----------------------------------------
    def validate(self) -> Rubric:
        """Check the rules a usable rubric must meet; return self for chaining."""
        problems: list[str] = []
        if not self.criteria:
            problems.append("评分细则至少需要一个一级指标")
        seen: set[str] = set()
        for c in self.criteria:
            if c.code in seen:
                problems.append(f"指标编码重复：{c.code}")
            seen.add(c.code)
            if not c.items:
                problems.append(f"一级指标「{c.label}」没有二级指标")
        for group, item in self.scored_items():
            where = "加分项" if group == BONUS else self.criterion(group).label
            if not item.code:
                problems.append(f"{where}下有二级指标缺少编码")
            if item.code in seen:
                problems.append(f"指标编码重复：{item.code}")
            seen.add(item.code)
            if not item.label.strip():
                problems.append(f"{where}下的指标 {item.code} 缺少名称")
            if not item.max_points > 0:
                problems.append(f"{where}-{item.label} 的分值必须为正数（当前 {item.max_points}）")
        if self.bonus_items and not self.bonus_cap > 0:
            problems.append("设置了加分项时，加分上限必须为正数")
        if self.bonus_cap < 0:
            problems.append("加分上限不能为负数")
        if problems:
            raise InvalidInput("评分细则有误：" + "；".join(problems), problems=problems)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "bonus_cap": self.bonus_cap,
            "criteria": [
                {
                    "code": c.code,
                    "label": c.label,
                    "full_label": c.full_label,
                    "items": [_item_dict(i) for i in c.items],
                }
                for c in self.criteria
            ],
            "bonus_items": [_item_dict(i) for i in self.bonus_items],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Rubric:
        try:
            criteria = tuple(
                Criterion(
                    code=c["code"],
                    label=c["label"],
                    full_label=c.get("full_label", c["label"]),
                    items=tuple(_item_from(i) for i in c["items"]),
                )
                for c in data["criteria"]
            )
            bonus = tuple(_item_from(i) for i in data.get("bonus_items", ()))
            return cls(
                criteria=criteria,
                bonus_items=bonus,
                bonus_cap=float(data.get("bonus_cap", 0.0)),
                version=int(data.get("version", 1)),
            ).validate()
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"评分细则格式无法识别：{exc}") from exc


def _item_dict(item: Item) -> dict[str, Any]:
    return {
        "code": item.code,
        "label": item.label,
        "max_points": item.max_points,
        "guide": item.guide,
        "deductions": item.deductions,
    }


def _item_from(data: Mapping[str, Any]) -> Item:
    return Item(
        code=str(data["code"]),
        label=str(data["label"]),
        max_points=float(data["max_points"]),
        guide=str(data.get("guide", "")),
        deductions=str(data.get("deductions", "")),
    )


def _criterion(code: str, items: list[Item]) -> Criterion:
    label, full = CRITERIA[code]
    return Criterion(code=code, label=label, full_label=full, items=tuple(items))


def default_rubric() -> Rubric:
    """Our default 100-point rubric with a 5-point bonus; every round may change it."""
    return Rubric(
        criteria=(
            _criterion(
                "name",
                [
                    Item(
                        "name.concise",
                        "名称凝练响亮",
                        5,
                        "名称简洁凝练、朗朗上口、易记易传（5分）；较好（3-4分）；一般（0-2分）",
                    ),
                    Item(
                        "name.logo",
                        "标识设计规范",
                        5,
                        "有规范统一的品牌标识并广泛使用（5分）；有标识但使用不规范（2-4分）",
                    ),
                    Item(
                        "name.fit",
                        "名称与主责主业契合",
                        5,
                        "名称紧扣支部职责和业务特点（5分）；契合度一般（0-3分）",
                    ),
                ],
            ),
            _criterion(
                "connotation",
                [
                    Item(
                        "connotation.political",
                        "政治引领",
                        5,
                        "突出政治功能，体现党的创新理论学习和政治引领（5分）",
                    ),
                    Item(
                        "connotation.concept",
                        "理念阐释清晰",
                        5,
                        "品牌理念、目标定位表述清晰，党员群众知晓（5分）",
                    ),
                    Item(
                        "connotation.feature",
                        "特色与示范价值",
                        5,
                        "特色鲜明，具有可复制可推广的示范价值（5分）",
                    ),
                ],
            ),
            _criterion(
                "mechanism",
                [
                    Item(
                        "mechanism.leadership",
                        "组织领导与责任分工",
                        7,
                        "书记亲自抓、责任到人，分工明确（7分）",
                        "无专门工作机制扣3分",
                    ),
                    Item(
                        "mechanism.plan",
                        "创建方案与工作制度",
                        7,
                        "有创建方案、年度计划和配套制度，执行有记录（7分）",
                        "方案缺失扣4分；制度未执行扣2分",
                    ),
                    Item(
                        "mechanism.evaluation",
                        "考核评估与持续改进",
                        6,
                        "定期评估创建成效并持续改进（6分）",
                    ),
                ],
            ),
            _criterion(
                "carriers",
                [
                    Item(
                        "carriers.variety", "载体形式多样", 7, "活动载体丰富多样、常态开展（7分）"
                    ),
                    Item(
                        "carriers.integration",
                        "党建业务融合",
                        7,
                        "党建与业务工作深度融合、相互促进（7分）",
                    ),
                    Item(
                        "carriers.participation",
                        "党员参与度",
                        6,
                        "党员参与率90%以上（6分），70%-90%（3-5分），70%以下（0-2分）",
                    ),
                ],
            ),
            _criterion(
                "standards",
                [
                    Item(
                        "standards.process",
                        "服务标准与流程",
                        5,
                        "服务标准明确、流程规范、有据可查（5分）",
                    ),
                    Item(
                        "standards.commitment",
                        "服务承诺与公开",
                        5,
                        "公开服务承诺并接受群众监督（5分）",
                    ),
                    Item(
                        "standards.venue", "阵地建设", 5, "党建阵地规范、功能完善、使用率高（5分）"
                    ),
                ],
            ),
            _criterion(
                "impact",
                [
                    Item("impact.effect", "服务成效", 5, "为群众办实事成效明显，有数据支撑（5分）"),
                    Item(
                        "impact.satisfaction",
                        "群众满意度",
                        5,
                        "群众满意度测评95%以上（5分），85%-95%（3-4分）",
                    ),
                    Item(
                        "impact.publicity",
                        "宣传推广与示范辐射",
                        5,
                        "经验做法被上级推广或媒体报道（5分）",
                    ),
                ],
            ),
        ),
        bonus_items=(
            Item("bonus.award", "上级表彰", 3, "获市级以上表彰每项加1分，最多3分"),
            Item("bonus.innovation", "创新项目", 2, "有创新性工作被上级采纳推广，最多2分"),
        ),
        bonus_cap=5.0,
        version=1,
    ).validate()


@dataclass(frozen=True)
class GradeBand:
    """A grade (等次) reached at ``min_total`` points or more."""

    label: str
    min_total: float


DEFAULT_GRADE_BANDS: tuple[GradeBand, ...] = (
    GradeBand("优秀", 90.0),
    GradeBand("良好", 80.0),
    GradeBand("合格", 60.0),
)
FAIL_GRADE = "不合格"
METHODS: dict[str, str] = {
    "trimmed": "去掉最高分和最低分后平均",
    "mean": "算术平均",
    "median": "中位数",
}


@dataclass(frozen=True)
class GradeQuota:
    """At most ``max_share`` (0-1) of the ranked brands may hold grade ``label``."""

    label: str
    max_share: float


@dataclass(frozen=True)
class VetoRule:
    """A criterion below ``min_share`` of its maximum caps the grade at ``max_grade``."""

    criterion: str
    min_share: float
    max_grade: str


@dataclass(frozen=True)
class RoundSettings:
    """How a round aggregates, ranks and grades; stored as JSON with the round.

    ``comment_below``: judges must write a comment (评语) when their total for a brand
    is below this many points (None: never required).
    """

    method: str = "trimmed"
    min_judges: int = 5
    trim_min_judges: int = 5
    grade_bands: tuple[GradeBand, ...] = DEFAULT_GRADE_BANDS
    tie_break: tuple[str, ...] = ()
    quotas: tuple[GradeQuota, ...] = ()
    vetoes: tuple[VetoRule, ...] = ()
    comment_below: float | None = None

    @property
    def grade_labels(self) -> list[str]:
        """Grades from best to worst, the fail grade last."""
        return [b.label for b in self.grade_bands] + [FAIL_GRADE]

    def validate(self, rubric: Rubric | None = None) -> RoundSettings:
        problems = []
        if self.method not in METHODS:
            problems.append(f"汇总方法只能是 {'、'.join(METHODS)}（当前 {self.method}）")
        if self.min_judges < 1:
            problems.append("最少评委人数至少为 1")
        if self.trim_min_judges < 3:
            problems.append("去掉最高最低分至少需要 3 名评委")
        mins = [b.min_total for b in self.grade_bands]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            problems.append("等次分数线必须从高到低且互不相同")
        codes = set(CRITERION_CODES if rubric is None else (c.code for c in rubric.criteria))
        for code in self.tie_break:
            if code not in codes:
                problems.append(f"并列排序依据中的指标 {code} 不存在")
        labels = self.grade_labels
        for quota in self.quotas:
            if quota.label not in labels[:-1]:
                problems.append(f"名额限制中的等次「{quota.label}」不存在")
            if not 0 <= quota.max_share <= 1:
                problems.append(f"等次「{quota.label}」的名额比例须在 0 到 100% 之间")
        for veto in self.vetoes:
            if veto.criterion not in codes:
                problems.append(f"否决规则中的指标 {veto.criterion} 不存在")
            if veto.max_grade not in labels:
                problems.append(f"否决规则中的等次「{veto.max_grade}」不存在")
            if not 0 < veto.min_share <= 1:
                problems.append("否决规则的得分率须在 0 到 100% 之间")
        if self.comment_below is not None and self.comment_below < 0:
            problems.append("要求填写评语的分数线不能为负数")
        if problems:
            raise InvalidInput("轮次设置有误：" + "；".join(problems), problems=problems)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "min_judges": self.min_judges,
            "trim_min_judges": self.trim_min_judges,
            "grade_bands": [{"label": b.label, "min_total": b.min_total} for b in self.grade_bands],
            "tie_break": list(self.tie_break),
            "quotas": [{"label": q.label, "max_share": q.max_share} for q in self.quotas],
            "vetoes": [
                {"criterion": v.criterion, "min_share": v.min_share, "max_grade": v.max_grade}
                for v in self.vetoes
            ],
            "comment_below": self.comment_below,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RoundSettings:
        data = dict(data or {})
        try:
            bands = data.get("grade_bands")
            comment_below = data.get("comment_below")
            return cls(
                method=str(data.get("method", "trimmed")),
                min_judges=int(data.get("min_judges", 5)),
                trim_min_judges=int(data.get("trim_min_judges", 5)),
                grade_bands=(
                    tuple(GradeBand(str(b["label"]), float(b["min_total"])) for b in bands)
                    if bands
                    else DEFAULT_GRADE_BANDS
                ),
                tie_break=tuple(data.get("tie_break", ())),
                quotas=tuple(
                    GradeQuota(str(q["label"]), float(q["max_share"]))
                    for q in data.get("quotas", ())
                ),
                vetoes=tuple(
                    VetoRule(str(v["criterion"]), float(v["min_share"]), str(v["max_grade"]))
                    for v in data.get("vetoes", ())
                ),
                comment_below=None if comment_below is None else float(comment_below),
            ).validate()
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInput(f"轮次设置格式无法识别：{exc}") from exc
