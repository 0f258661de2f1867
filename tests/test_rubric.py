"""The rubric: default content, validation rules and the JSON round trip."""

from __future__ import annotations

import pytest

from evalcore.errors import InvalidInput
from evalcore.rubric import (
    CRITERION_CODES,
    Criterion,
    GradeQuota,
    Item,
    RoundSettings,
    Rubric,
    VetoRule,
    default_rubric,
)


def crit(*items: Item) -> Criterion:
    return Criterion("a", "甲", "有甲", items)


def test_default_rubric_is_the_published_100_points() -> None:
    rubric = default_rubric()
    assert [c.code for c in rubric.criteria] == list(CRITERION_CODES)
    assert [c.label for c in rubric.criteria] == [
        "品牌名称",
        "品牌内涵",
        "创建机制",
        "活动载体",
        "服务规范",
        "群众影响",
    ]
    assert rubric.criterion_max() == {
        "name": 15,
        "connotation": 15,
        "mechanism": 20,
        "carriers": 20,
        "standards": 15,
        "impact": 15,
    }
    assert rubric.criteria_max == 100
    assert rubric.bonus_cap == 5 and rubric.max_total == 105
    assert len(rubric.item_codes) == 20
    assert rubric.criterion("impact").full_label == "有良好的群众影响"
    assert all(item.guide for _, item in rubric.scored_items())


def test_totals_follow_items_not_typed_numbers() -> None:
    rubric = Rubric(
        criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 7), Item("a2", "二", 3))),)
    )
    assert rubric.criteria_max == 10
    assert rubric.max_total == 10


def test_effective_bonus_cap_never_exceeds_items() -> None:
    rubric = Rubric(
        criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 10),)),),
        bonus_items=(Item("x", "加", 2),),
        bonus_cap=5,
    )
    assert rubric.effective_bonus_cap == 2


@pytest.mark.parametrize(
    ("rubric", "message"),
    [
        (Rubric(criteria=()), "至少需要一个一级指标"),
        (Rubric(criteria=(Criterion("a", "甲", "有甲", ()),)), "没有二级指标"),
        (Rubric(criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 0),)),)), "必须为正数"),
        (Rubric(criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", -2),)),)), "必须为正数"),
        (
            Rubric(
                criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 5), Item("a1", "二", 5))),)
            ),
            "编码重复",
        ),
        (
            Rubric(
                criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 5),)),),
                bonus_items=(Item("x", "加", 1),),
                bonus_cap=0,
            ),
            "加分上限",
        ),
    ],
)
def test_invalid_rubrics_are_refused(rubric, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        rubric.validate()


def test_validation_reports_every_problem_at_once() -> None:
    bad = Rubric(criteria=(Criterion("a", "甲", "有甲", (Item("a1", "一", 0), Item("a1", "", 5))),))
    with pytest.raises(InvalidInput) as err:
        bad.validate()
    assert len(err.value.fields["problems"]) == 3


def test_json_round_trip() -> None:
    rubric = default_rubric()
    assert Rubric.from_dict(rubric.to_dict()) == rubric


def test_malformed_json_is_a_chinese_error() -> None:
    with pytest.raises(InvalidInput, match="格式无法识别"):
        Rubric.from_dict({"criteria": [{"code": "a"}]})


def test_labels_for_tables_and_sheets() -> None:
    labels = default_rubric().item_labels()
    assert labels["name.concise"] == "品牌名称-名称凝练响亮"
    assert labels["bonus.award"] == "加分项-上级表彰"


def test_settings_round_trip_and_validation() -> None:
    s = RoundSettings(
        method="median",
        min_judges=3,
        tie_break=("impact",),
        quotas=(GradeQuota("优秀", 0.15),),
        vetoes=(VetoRule("impact", 0.6, "合格"),),
        comment_below=70,
    )
    assert RoundSettings.from_dict(s.to_dict()) == s
    with pytest.raises(InvalidInput, match="名额"):
        RoundSettings(quotas=(GradeQuota("特等", 0.1),)).validate()
    with pytest.raises(InvalidInput, match="否决"):
        RoundSettings(vetoes=(VetoRule("impact", 0.6, "特等"),)).validate()
    with pytest.raises(InvalidInput, match="汇总方法"):
        RoundSettings(method="max").validate()
    with pytest.raises(InvalidInput, match="并列排序"):
        RoundSettings(tie_break=("nope",)).validate()
    with pytest.raises(InvalidInput, match="分数线"):
        RoundSettings.from_dict(
            {"grade_bands": [{"label": "A", "min_total": 60}, {"label": "B", "min_total": 90}]}
        )
