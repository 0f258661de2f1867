"""Every Chinese string the dashboard shows, in one place (figure texts live in charts).

Keeping them together lets a reviewer read the whole UI's wording at once, and lets
tests assert on the same constants the pages render instead of copying literals.
"""

from __future__ import annotations

APP_TITLE = "一支部一品牌评审"
APP_ICON = ":material/military_tech:"

# -- navigation ----------------------------------------------------------------------------
PAGE_OVERVIEW = "总览"
PAGE_RANKING = "排名"
PAGE_BRAND = "品牌详情"
ICON_OVERVIEW = ":material/dashboard:"
ICON_RANKING = ":material/leaderboard:"
ICON_BRAND = ":material/workspace_premium:"

# -- sidebar and notices -------------------------------------------------------------------
ROUND_PICKER = "评审轮次"
ROUND_OPTION = "{code} · {status}"
ROUND_CAPTION = "{name}（{status}）· 汇总方法：{method}"
DEMO_NOTICE = "当前显示的是演示数据（{dataset}），仅供体验，不代表真实评审结果。"
DEMO_LOADED_NOW = "数据库为空，已自动载入演示数据。"
DEMO_DATASETS = {"sample": "示例活动", "generated": "自动生成的大规模数据"}
ICON_DEMO = ":material/science:"

# -- empty states: each says what to do next ------------------------------------------------
NO_ROUNDS = "数据库中还没有评审轮次。请管理员先创建评审轮次，导入参评品牌和评委名单后再来查看。"
NO_ROUNDS_SHORT = "暂无评审轮次"
NO_BRANDS = "本轮还没有参评品牌，请管理员先导入品牌名单。"
NO_SCORES = "本轮尚无评分，请评委录入或导入评分表。"
NO_MATCH = "没有符合筛选条件的品牌，请放宽或清除上方的筛选条件。"
BRAND_UNSCORED = "该品牌尚无完整评分，暂无总分、排名和雷达图。请评委完成对该品牌全部指标的评分。"
BRAND_NO_JUDGES = "还没有评委为该品牌打分，请评委录入或导入该品牌的评分表。"
NO_COMMENTS = "评委暂未填写评语；评语可在评分表的“评语”栏填写后一并导入。"
ICON_EMPTY = ":material/info:"

# -- caveats on results --------------------------------------------------------------------
FLAG_UNDER = "{n} 个品牌完成评分的评委少于 {min_judges} 人，结果仅供参考（见表中“提示”列）。"
FLAG_MEAN = (
    "{n} 个品牌完成评分的评委不足 {trim} 人，未去掉最高分和最低分，改按算术平均计算"
    "（见表中“提示”列）。"
)
FLAG_UNRANKED = "{n} 个品牌尚无完整评分，暂不排名、不评等次，列在表末。"
ICON_WARNING = ":material/warning:"

# -- overview ------------------------------------------------------------------------------
OVERVIEW_TITLE = "评审总览"
KPI_BRANDS = "参评品牌数"
KPI_JUDGES = "评委数"
KPI_PROGRESS = "评分完成率"
KPI_PROGRESS_VALUE = "{percent:.1f}%"
KPI_PROGRESS_HELP = "已完成 {complete} 份 / 应评 {expected} 份（评委不评本单位品牌）"
TOP10 = "前 10 名"
TOP10_MORE = "完整排名、筛选和指标热力图见“排名”页。"

# -- ranking -------------------------------------------------------------------------------
RANKING_TITLE = "评审排名"
METHOD_PICKER = "汇总方法"
METHOD_LABELS = {
    "trimmed": "去掉最高最低分",
    "mean": "算术平均",
    "median": "中位数",
}
METHOD_HELP = "默认按本轮设置；切换后仅改变显示结果，不修改本轮设置。"
FILTER_UNIT = "单位"
FILTER_CATEGORY = "类型"
FILTER_GRADE = "等次"
FILTER_PLACEHOLDER = "全部"
TABLE_HINT = "点击表头排序；勾选一行可查看该品牌详情。"
SHOWN_COUNT = "显示 {shown} / {total} 个品牌"

# -- brand detail --------------------------------------------------------------------------
BRAND_TITLE = "品牌详情"
BRAND_PICKER = "选择品牌"
PROFILE_RANK = "名次"
PROFILE_TOTAL = "总分"
PROFILE_GRADE = "等次"
PROFILE_COUNTED = "计入评委数"
PROFILE_UNIT = "单位"
PROFILE_BRANCH = "支部"
PROFILE_CATEGORY = "类型"
PROFILE_NONE = "—"
DROPPED_CAPTION = "去掉最高分：{high}；去掉最低分：{low}"
JUDGES_HEADER = "各评委评分"
JUDGES_HINT = "“高分剔除”“低分剔除”的评分不计入汇总；“未完成”的评分表缺项，也不计入。"
COMMENTS_HEADER = "评委评语"
