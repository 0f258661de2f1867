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
PAGE_SCORING = "评委打分"
PAGE_IMPORT = "导入评分"
PAGE_PROGRESS = "评分进度"
PAGE_ROUNDS = "轮次管理"
PAGE_RUBRIC = "评分细则"
PAGE_ROSTER = "组织与品牌"
PAGE_ASSIGNMENTS = "评委分配"
PAGE_USERS = "评委与用户"
PAGE_AUDIT = "操作日志"
PAGE_LOGIN = "登录"
ICON_SCORING = ":material/edit_note:"
ICON_IMPORT = ":material/upload_file:"
ICON_PROGRESS = ":material/grid_on:"
ICON_ROUNDS = ":material/event:"
ICON_RUBRIC = ":material/rule:"
ICON_ROSTER = ":material/account_tree:"
ICON_ASSIGNMENTS = ":material/assignment_ind:"
ICON_USERS = ":material/group:"
ICON_AUDIT = ":material/history:"
ICON_LOGIN = ":material/login:"
NAV_RESULTS = "评审结果"
NAV_SCORING = "评分"
NAV_ADMIN = "管理"
ACCESS_DENIED = "当前账号无权访问此页面。如需访问，请联系管理员。"

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
RESULTS_NOT_PUBLISHED = (
    "本轮当前为「{status}」，评审结果发布后方可查看排名和得分；现在可以查看评分进度。"
)
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
KPI_PROGRESS_HELP = "已完成 {complete} 份 / 应评 {expected} 份（按评委分配，回避本单位品牌）"
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

# -- login ---------------------------------------------------------------------------------
LOGIN_TITLE = "登录"
LOGIN_USERNAME = "用户名"
LOGIN_PASSWORD = "密码"
LOGIN_BUTTON = "登录"
LOGOUT = "退出登录"
SIGNED_IN_AS = "当前用户：{name}（{role}）"
DEMO_ACCOUNTS_TITLE = "演示账号"
DEMO_ACCOUNTS_WARNING = (
    "以下演示账号的密码是公开的，仅供体验各角色功能。正式使用前，请管理员删除或停用这些账号"
    "（或修改其密码）：python -m evalcore users disable 用户名"
)
DEMO_ACCOUNT_LINE = "{role}：用户名 {username}，密码 {password}"

# -- export --------------------------------------------------------------------------------
EXPORT_XLSX = "导出 Excel"
EXPORT_CSV = "导出 CSV"

# -- 评委打分 (pages/judge_scoring.py) -------------------------------------------------------
SCORING_TITLE = "评委打分"
SCORING_CAPTION = "评委：{judge}（{code}）　轮次：{round}（{status}）"
SCORING_NOT_A_JUDGE = (
    "只有关联了评委的评委账号可以在线打分（评审是盲评，各评委只能录入自己的评分）。"
    "管理员请通过“导入评分”录入纸质评分表。"
)
SCORING_READONLY = (
    "本轮当前为「{status}」，评分表只读。只有「评分中」的轮次可以录入或修改评分；"
    "如需补录，请联系管理员。"
)
SCORING_NO_BRANDS = (
    "本轮还没有分配给你的品牌（或都因回避、利益冲突而无需评审）。如有疑问，请联系管理员。"
)
SCORING_PROGRESS = "已提交 {done} / {size}　·　草稿 {draft}　·　未开始 {new}"
SCORING_ALL_DONE = "分配给你的品牌已全部提交，谢谢！如需修改已提交的评分表，请联系管理员退回。"
SCORING_WORKLIST = "我的评分任务（{n} 个品牌）"
SCORING_COLUMNS = {
    "brand_code": "编号",
    "brand": "品牌",
    "unit": "单位",
    "branch": "支部",
    "status_label": "状态",
    "filled": "已填指标",
    "total": "我的总分",
}
SCORING_PICKER = "选择品牌"
SCORING_OPTION = "{code} {name}"
SCORING_UNSAVED_LIST = "有未保存修改的品牌：{codes}（切换品牌不会丢失已输入的内容，保存后才会记录）"
SCORING_SUBMITTED_NOTICE = "该评分表已提交，不能再修改。如需修改，请联系管理员退回。"
SCORING_CRITERION = "{label}：{full}　·　小计 {subtotal} / {max} 分"
SCORING_BONUS = "加分项　·　{bonus} 分（上限 {cap} 分）"
SCORING_BONUS_HINT = "加分项可不填（按 0 分计），各项合计超过上限时按上限计。"
SCORING_ITEM = "{label}（0–{max} 分）"
SCORING_GUIDE = "评分标准：{guide}"
SCORING_DEDUCTIONS = "扣分规则：{deductions}"
SCORING_BLANK = "未填"
SCORING_TOTAL = "总分"
SCORING_TOTAL_VALUE = "{total} / {max}"
SCORING_BONUS_METRIC = "加分（已计上限）"
SCORING_FILLED = "已填二级指标"
SCORING_FILLED_VALUE = "{filled} / {required}"
SCORING_COMMENT = "评语"
SCORING_COMMENT_HELP = "总分低于 {threshold} 分时，提交前须填写评语。"
SCORING_COMMENT_NEEDED = "当前总分 {total} 低于 {threshold} 分，提交前须填写评语。"
SCORING_SAVE = "保存草稿"
SCORING_SUBMIT = "提交"
SCORING_NEXT = "下一个"
SCORING_SUBMIT_HINT = (
    "提交前须填写全部二级指标（加分项可空）。提交后不能再修改，如需修改请联系管理员退回。"
)
SCORING_SAVED = "已保存草稿（{n} 项评分有改动）。"
SCORING_SUBMITTED = "已提交「{brand}」的评分表，总分 {total} 分。"
SCORING_NOTHING = "没有需要保存的修改。"
SCORING_STALE = (
    "打开本表之后，它已在别处被修改（例如另一个浏览器标签页或管理员导入），现在保存会被拒绝。"
    "请刷新以加载最新内容，再重新填写你的修改。"
)
SCORING_REFRESH = "刷新（放弃本表未保存的修改）"
ICON_SUBMITTED = ":material/task_alt:"
ICON_LOCKED = ":material/lock:"

# -- accounts: login, the sidebar user box, 评委与用户 (pages/login.py, pages/admin_users.py) --
LOGIN_CAPTION = "请使用管理员为你开设的账号登录。"
SESSION_EXPIRED = (
    "登录状态已失效（长时间未操作、已在别处退出、密码已修改或账号已停用），请重新登录。"
)
DEMO_COLUMNS = {"role": "角色", "username": "用户名", "password": "密码"}
CHANGE_PASSWORD = "修改密码"
CURRENT_PASSWORD = "当前密码"
NEW_PASSWORD = "新密码（至少 8 个字符）"
NEW_PASSWORD_AGAIN = "再次输入新密码"
CHANGE_PASSWORD_BUTTON = "确认修改"
PASSWORD_CHANGED = "密码已修改；你在其他浏览器或设备上的登录已全部退出。"

USERS_TITLE = "评委与用户"
USERS_TABS = ("评委名单", "评审组", "用户账号")
JUDGE_ROSTER_HINT = (
    "直接在表格中修改；在表格末尾的空行添加新评委；勾选行首后点击右上角的删除图标可删除评委"
    "（只能删除尚无评分、未关联账号的评委）。“所在单位”决定回避：评委不评本单位的品牌，"
    "外部评委留空。修改完成后点击“保存评委名单”。"
)
JUDGES_EMPTY = (
    "还没有评委。在下表的空行中添加第一位评委（编号、姓名必填），再点击“保存评委名单”；"
    "也可以运行 python -m evalcore demo 载入演示数据。"
)
JUDGE_COLUMNS = {
    "code": "编号",
    "name": "姓名",
    "unit": "所在单位",
    "title": "职务/职称",
    "scores": "评分条数",
    "account": "账号",
    "rounds": "参加轮次",
}
JUDGE_UNIT_HELP = "评委所在的上级党组织；留空表示外部评委。"
JUDGES_SAVE = "保存评委名单"
JUDGES_SAVED = "评委名单已保存：{summary}。"
NOTHING_CHANGED = "没有需要保存的修改。"
PANEL_HEADER = "轮次 {code} 的评审组（{status}）"
PANEL_PICKER = "评审组成员"
PANEL_HINT = (
    "选择参加本轮评审的评委（左侧边栏可切换轮次）。新加入的评委还没有分配品牌，请到“评委分配”页"
    "为其分配；已在本轮评分的评委不能移出。"
)
PANEL_FROZEN = "本轮当前为「{status}」，评审组已固定，不能调整。"
PANEL_NO_JUDGES = "还没有评委，请先在“评委名单”中添加评委。"
PANEL_NO_ROUND = "还没有评审轮次：请先在“轮次管理”页创建轮次，再组建评审组。"
PANEL_SAVE = "保存评审组"
PANEL_SAVED = "评审组已更新：加入 {added} 人，移出 {removed} 人。"
USER_COLUMNS = {
    "username": "用户名",
    "display_name": "显示名称",
    "role": "角色",
    "judge": "关联评委",
    "status": "状态",
    "is_demo": "演示账号",
    "last_seen": "最近活动",
    "created_at": "创建时间",
}
USER_ACTIVE = "启用"
USER_DISABLED_LABEL = "停用"
USERS_DEMO_WARNING = (
    "演示账号 {names} 仍可用公开的密码登录。正式使用前，请在下方停用这些账号或重置其密码。"
)
USER_ADD_HEADER = "新增用户"
USER_NAME = "用户名"
USER_DISPLAY = "显示名称（可选）"
USER_ROLE = "角色"
USER_JUDGE = "关联评委（评委账号必选）"
USER_JUDGE_HELP = "评委账号只能看到并评审分配给该评委的品牌；每位评委只能关联一个账号。"
USER_PASSWORD = "初始密码（至少 8 个字符）"
USER_PASSWORD_AGAIN = "再次输入密码"
USER_ADD_BUTTON = "新增用户"
USER_ADDED = "已新增用户 {username}（{role}）。"
USER_RESET_HEADER = "重置密码"
USER_PICK = "选择用户"
USER_RESET_PASSWORD = "新密码（至少 8 个字符）"
USER_RESET_BUTTON = "重置密码"
USER_RESET_DONE = "已重置 {username} 的密码，其现有登录已全部退出。"
USER_ACTIVE_HEADER = "停用 / 启用账号"
USER_ACTIVE_HINT = "停用后该账号立即退出登录、不能再登录；其评分和操作记录保留。"
USER_DISABLE = "停用"
USER_ENABLE = "启用"
USER_DISABLED = "已停用 {username}，其现有登录已全部退出。"
USER_ENABLED = "已启用 {username}。"
USER_ALREADY = "{username} 已经是“{state}”状态。"

# -- 轮次管理, 评分细则, 操作日志 (pages/admin_rounds.py, admin_rubric.py, admin_audit.py) ----
ICON_OK = ":material/check_circle:"
ROUNDS_TITLE = "轮次管理"
ROUNDS_EMPTY = "还没有评审轮次。请在下方“新建轮次”中创建第一个轮次（可复制已有轮次的细则和名单）。"
ROUNDS_COLUMNS = {
    "code": "编号",
    "name": "名称",
    "status_label": "状态",
    "brands": "参评品牌",
    "judges": "评委",
    "assignments": "分配",
    "scores": "评分条数",
    "updated_at": "最近修改",
}
ROUND_HEADER = "轮次 {code}：{name}"
ROUND_PICK_HINT = "在左侧边栏切换要管理的轮次。"
LIFECYCLE_STEP = "{label}"
LIFECYCLE_CURRENT = "**:blue[{label}]**"
LIFECYCLE_ARROW = " → "
STATUS_MEANING = {
    "draft": "筹备：可以修改评分细则和设置、调整参评品牌和评委；评委还不能打分。",
    "scoring": "评分中：评委可以打分，评分细则已冻结；查看者只能看到评分进度。",
    "locked": "已锁定：评分不能再修改，管理员可核对结果；查看者仍只能看到评分进度。",
    "published": "已发布：查看者可以看到排名和结果；设置不能再修改。",
}
MOVES_HEADER = "状态流转"
ROUND_EMPTY_PANEL = (
    "本轮目前有参评品牌 {brands} 个、评委 {judges} 名。请先在“组织与品牌”“评委与用户”"
    "“评委分配”页添加品牌、评委并分配，再开始评分。"
)
MOVE_REASON = "原因（退回操作必填，记入操作日志）"
MOVE_REASON_HELP = "解锁、撤回发布、退回筹备会改变已经公布或确定的内容，必须说明原因。"
MOVE_DONE = "轮次 {code} 已从「{old}」改为「{new}」。"
MOVE_ICONS = {
    "open": ":material/play_arrow:",
    "lock": ":material/lock:",
    "publish": ":material/campaign:",
    "unlock": ":material/lock_open:",
    "unpublish": ":material/unpublished:",
    "reset": ":material/undo:",
}
SETTINGS_HEADER = "评审设置"
SETTINGS_FROZEN = "本轮已发布，设置已冻结。如确需调整，请先撤回发布（需填写原因）。当前设置："
SETTINGS_METHOD = "汇总方法"
SETTINGS_MIN_JUDGES = "最少评委人数"
SETTINGS_MIN_JUDGES_HELP = "完成评分的评委少于此人数的品牌，结果标注“仅供参考”。"
SETTINGS_TRIM = "去掉最高最低分所需评委数"
SETTINGS_TRIM_HELP = "完成评分的评委达到此人数才去掉一个最高分和一个最低分，否则按算术平均。"
SETTINGS_COMMENT = "总分低于此分数时评委必须填写评语"
SETTINGS_COMMENT_HELP = "留空表示不强制填写评语。"
SETTINGS_TIE = "并列时依次比较的指标"
SETTINGS_TIE_HELP = "总分（保留两位小数）相同时，按所选顺序比较这些一级指标的得分，高者在前。"
SETTINGS_BANDS = "等次分数线"
SETTINGS_BANDS_HELP = "总分达到分数线即为该等次（从高到低）；低于最低分数线为“不合格”。"
SETTINGS_QUOTAS = "等次名额（可选）"
SETTINGS_QUOTAS_HELP = "例如“优秀”不超过 15%：超出名额的品牌按名次降一个等次；并列的品牌一起降。"
SETTINGS_VETOES = "否决规则（可选）"
SETTINGS_VETOES_HELP = "例如“群众影响”得分低于满分的 60% 时，等次最高为“合格”。"
BAND_COLUMNS = {"label": "等次", "min_total": "分数线"}
QUOTA_COLUMNS = {"label": "等次", "percent": "最多占比（%）"}
VETO_COLUMNS = {"criterion": "一级指标", "percent": "低于满分的（%）", "max_grade": "等次最高为"}
SETTINGS_PREVIEW = "预览影响"
SETTINGS_SAVE = "保存设置"
SETTINGS_SAVED = "轮次 {code} 的设置已保存。"
SETTINGS_UNCHANGED = "设置没有改动，未保存。"
PREVIEW_HEADER = "等次影响预览"
PREVIEW_CURRENT = "按当前已保存的设置："
PREVIEW_PROPOSED = "按表单中的设置（尚未保存）："
PREVIEW_NO_SCORES = (
    "本轮还没有完整的评分，暂时无法预览等次；评分完成后这里会显示名额和否决规则的影响。"
)
PREVIEW_RANKED = "参与排名"
PREVIEW_VETOED = "否决规则改变"
PREVIEW_QUOTA = "名额限制改变"
PREVIEW_DIFFERS = "与当前结果不同"
PREVIEW_DIFFERS_HELP = "与按已保存设置得出的等次相比，有多少品牌的等次会变化。"
PREVIEW_GRADES = {"grade": "等次", "current": "当前", "proposed": "预览"}
PREVIEW_CHANGES = {
    "brand_code": "编号",
    "brand": "品牌",
    "rank": "名次",
    "total": "总分",
    "grade_by_score": "按分数",
    "current": "当前等次",
    "proposed": "预览等次",
    "note": "等次说明",
}
PREVIEW_NONE = "名额和否决规则没有改变任何品牌的等次。"
NEW_ROUND_HEADER = "新建轮次"
NEW_ROUND_CODE = "轮次编号"
NEW_ROUND_CODE_HELP = "字母、数字和 . _ -，例如 2027；创建后不能修改。"
NEW_ROUND_NAME = "轮次名称"
NEW_ROUND_NAME_PLACEHOLDER = "例如：2027年度“一支部一品牌”评审"
NEW_ROUND_COPY = "复制已有轮次"
NEW_ROUND_NO_COPY = "不复制（默认评分细则和设置，评审组为空）"
NEW_ROUND_COPY_HELP = "复制评分细则、设置、参评品牌、评委和分配；不复制评分、评语和回避申报。"
NEW_ROUND_BUTTON = "创建轮次"
NEW_ROUND_DONE = "已创建轮次 {code}（筹备），并已在左侧选中。"

RUBRIC_TITLE = "评分细则"
RUBRIC_CAPTION = "轮次 {code}（{status}）· 第 {version} 版 · 满分 {total:g} 分"
RUBRIC_FROZEN = {
    "scoring": (
        "本轮已开始评分，评分细则已冻结，以保证所有评委按同一标准打分。"
        "如确需修改，请在“轮次管理”页退回筹备（需填写原因）后再编辑。"
    ),
    "locked": "本轮评分已锁定，评分细则已冻结，不能再修改。",
    "published": "本轮结果已发布，评分细则已冻结，不能再修改。",
}
RUBRIC_HINT = (
    "在表格中直接修改二级指标和加分项：点表格下方的“+”添加一行，勾选行后可删除。"
    "分值合计由系统计算，不需要填写。改完后点“保存评分细则”。"
)
RUBRIC_TOTALS = "分值合计"
RUBRIC_TOTALS_COLUMNS = {"group": "指标", "items": "二级指标数", "max_points": "满分"}
RUBRIC_CRITERIA_TOTAL = "一级指标合计"
RUBRIC_BONUS_TOTAL = "加分（封顶）"
RUBRIC_MAX_TOTAL = "满分"
RUBRIC_SUBTOTAL = "小计 {points:g} 分（{n} 项）"
RUBRIC_BONUS_HEADER = "加分项"
RUBRIC_BONUS_CAP = "加分上限"
RUBRIC_BONUS_CAP_HELP = "加分项合计超过上限时按上限计；上限也不会超过各加分项分值之和。"
RUBRIC_BONUS_SUBTOTAL = "加分项分值合计 {points:g} 分，计入总分最多 {capped:g} 分"
RUBRIC_ITEM_COLUMNS = {
    "label": "二级指标",
    "max_points": "分值",
    "guide": "评分标准",
    "deductions": "扣分规则",
}
RUBRIC_BONUS_COLUMNS = {**RUBRIC_ITEM_COLUMNS, "label": "加分项"}
RUBRIC_PROBLEMS = "还不能保存，请先修正："
RUBRIC_SAVE = "保存评分细则"
RUBRIC_DISCARD = "放弃修改"
RUBRIC_SAVED = "评分细则已保存为第 {version} 版。"
RUBRIC_UNCHANGED = "评分细则没有改动，未保存。"
RUBRIC_NO_ITEMS = "（无）"

AUDIT_TITLE = "操作日志"
AUDIT_HINT = (
    "记录评分、评分细则、轮次、分配和用户的每一次修改：谁、何时、原值 → 新值、来源和原因。"
    "日志只增不改。"
)
AUDIT_EMPTY = (
    "还没有操作记录。创建轮次、修改设置或评分细则、导入或录入评分、管理用户后，"
    "每一次修改都会记录在这里。"
)
AUDIT_NO_MATCH = "没有符合筛选条件的记录，请放宽或清除上方的筛选条件。"
AUDIT_ROUND = "轮次"
AUDIT_ENTITY = "对象"
AUDIT_USER = "操作人"
AUDIT_DATES = "日期范围（留空为全部）"
AUDIT_ALL = "全部"
AUDIT_COUNT = "共 {n} 条记录（按时间倒序）；时间为 {tz} 时间。"
AUDIT_EXPORT = "导出 Excel"
AUDIT_FILE = "操作日志.xlsx"
RUBRIC_NO_ROUNDS = "还没有评审轮次。请先在“轮次管理”页新建轮次，再编辑它的评分细则。"
NO_VALUE = "—"
USER_PICK_PLACEHOLDER = "请选择用户"
USER_JUDGE_PLACEHOLDER = "请选择评委"
RUBRIC_STALE = (
    "评分细则已被他人修改（现为第 {version} 版），你的修改无法保存。"
    "请点“放弃修改”载入最新版本后重新编辑。"
)
SETTINGS_STALE = (
    "本轮设置已被他人修改，表单中仍是你打开时的设置，无法保存。请载入最新设置后重新编辑。"
)
SETTINGS_RELOAD = "载入最新设置（放弃表单中的修改）"


# -- 组织与品牌, 评委分配, 评分进度 (pages/admin_roster.py, admin_assignments.py, admin_progress.py)
ROSTER_TITLE = "组织与品牌"
ROSTER_INTRO = (
    "在表格中直接修改、添加（表格末行）或删除（勾选行后点右上角删除）记录，然后点“保存修改”。"
    "保存前会检查全部修改，有任何问题都不会写入。"
)
ROSTER_KPI_UNITS = "单位"
ROSTER_KPI_BRANCHES = "支部"
ROSTER_KPI_BRANDS = "品牌"
ROSTER_TAB_UNITS = "单位"
ROSTER_TAB_BRANCHES = "支部"
ROSTER_TAB_BRANDS = "品牌"
ROSTER_TAB_ROUND = "参评品牌"
ROSTER_TAB_IMPORT = "导入名册"
ROSTER_NO_UNITS = "还没有单位。可在下表末行直接添加，或在“导入名册”中上传 Excel 名册一次导入。"
ROSTER_NO_BRANCHES = "还没有支部。请先添加单位，再在下表末行添加支部；也可以导入 Excel 名册。"
ROSTER_NO_BRANCHES_FIRST = "请先在“单位”中添加单位，然后才能添加支部。"
ROSTER_NO_BRANDS = "还没有品牌。可在下表末行添加（须先有单位和支部），或导入 Excel 名册。"
ROSTER_NO_BRANDS_FIRST = "请先添加单位和支部，然后才能添加品牌；也可以直接导入 Excel 名册。"
ROSTER_SAVE = "保存修改"
ROSTER_SAVED = "已保存{what}：新增 {added}，修改 {changed}，删除 {deleted}。"
ROSTER_NOTHING = "没有需要保存的修改。"
ROSTER_ISSUES = "{what}未保存：发现 {n} 处问题，请按下表修改后再保存。"
ROSTER_COL_CODE = "编号"
ROSTER_COL_NAME = "名称"
ROSTER_COL_UNIT = "单位"
ROSTER_COL_BRANCH = "支部"
ROSTER_COL_BRAND_CODE = "品牌编号"
ROSTER_COL_BRAND_NAME = "品牌名称"
ROSTER_COL_SLOGAN = "口号"
ROSTER_COL_DESCRIPTION = "简介"
ROSTER_COL_CATEGORY = "类型"
ROSTER_COL_BRANCHES = "支部数"
ROSTER_COL_BRANDS = "品牌数"
ROSTER_COL_JUDGES = "评委数"
ROSTER_COL_ROUNDS = "参评轮次"
ROSTER_COL_SCORED = "已有评分"
ROSTER_COL_IN_ROUND = "参评"
ROSTER_SCORED_HELP = "已有评分或评语的品牌不能删除"
ROSTER_ROUND_CAPTION = (
    "轮次 {code}（{status}）：勾选参评的品牌，然后点“保存参评品牌”。当前 {n} 个品牌参评。"
)
ROSTER_ROUND_LOCKED = "轮次 {code} 当前为「{status}」，参评品牌只能在「筹备」或「评分中」时调整。"
ROSTER_ROUND_SAVE = "保存参评品牌"
ROSTER_ROUND_ALL = "全部品牌参评"
ROSTER_ROUND_SAVED = "已更新轮次 {code} 的参评品牌：加入 {added} 个，移出 {removed} 个。"
ROSTER_ROUND_HINT = "新加入的品牌还没有评委，请到“评委分配”页分配评委。"
ROSTER_ROUND_NO_BRANDS = "还没有任何品牌，请先在“品牌”中添加或导入名册。"
ROSTER_IMPORT_TEMPLATE = "下载名册模板（含当前名册）"
ROSTER_IMPORT_TEMPLATE_HELP = (
    "列为 单位、支部、品牌编号、品牌名称、口号、简介、类型；编号已有的品牌会被更新，新编号会新增，"
    "导入不会删除任何品牌。"
)
ROSTER_IMPORT_UPLOAD = "上传名册（.xlsx）"
ROSTER_IMPORT_EMPTY = (
    "请上传填好的名册。系统会先检查全部单元格，并显示将新增和修改的数量，确认后才写入。"
)
ROSTER_IMPORT_TOO_BIG = "文件有 {size:.1f} MB，超过 {limit} MB 的上限，请拆分后上传。"
ROSTER_IMPORT_ISSUES = "发现 {n} 处问题，未写入任何数据。请按下表修正后重新上传。"
ROSTER_IMPORT_NOTHING = "文件与系统中的名册完全一致，没有需要写入的内容。"
ROSTER_IMPORT_READY = "校验通过。确认后一次性写入。"
ROSTER_IMPORT_CHANGES = "将被修改的品牌（原值 → 新值）"
ROSTER_IMPORT_CONFIRM = "确认导入"
ROSTER_IMPORT_CANCEL = "取消"
ROSTER_IMPORT_DONE = (
    "名册已导入：新增单位 {units_new}、支部 {branches_new}、品牌 {brands_new}，"
    "修改品牌 {brands_changed}。"
)
ROSTER_M_UNITS = "新增单位"
ROSTER_M_BRANCHES = "新增支部"
ROSTER_M_NEW = "新增品牌"
ROSTER_M_CHANGED = "修改品牌"
ROSTER_M_SAME = "未变品牌"
ROSTER_TEMPLATE_FILE = "品牌名册.xlsx"

ASSIGN_TITLE = "评委分配"
ASSIGN_CAPTION = "{name}（{status}）"
ASSIGN_LOCKED = "轮次当前为「{status}」，评委分配只能在「筹备」或「评分中」时修改，以下仅供查看。"
ASSIGN_NO_BRANDS = "本轮还没有参评品牌。请先在“组织与品牌”页的“参评品牌”中勾选本轮参评的品牌。"
ASSIGN_NO_JUDGES = "本轮还没有评委。请先在“评委与用户”页把评委加入本轮评委名单。"
ASSIGN_KPI_ASSIGNED = "有效分配"
ASSIGN_KPI_ASSIGNED_HELP = "已分配且无需回避的（评委, 品牌）组合数"
ASSIGN_KPI_RECUSED = "本单位回避"
ASSIGN_KPI_CONFLICTS = "申报回避"
ASSIGN_KPI_WITHOUT = "无评委的品牌"
ASSIGN_QUICK = "快速分配"
ASSIGN_ALL = "全部分配"
ASSIGN_ALL_HELP = "把本轮每位评委分配给每个参评品牌；评委所在单位的品牌和已申报回避的品牌自动跳过。"
ASSIGN_BY_UNIT_JUDGES = "评委"
ASSIGN_BY_UNIT_UNITS = "单位"
ASSIGN_BY_UNIT = "按单位分配"
ASSIGN_BY_UNIT_HELP = "把所选评委分配给所选单位的全部参评品牌（评委本单位的品牌自动跳过）。"
ASSIGN_PICK = "请选择"
ASSIGN_DONE = "已分配：新增 {added} 项，取消 {removed} 项。"
ASSIGN_SKIPPED = "另有 {n} 项因回避未分配。"
ASSIGN_NOTHING = "没有变化：所选组合都已分配（或须回避）。"
ASSIGN_MATRIX = "分配矩阵"
ASSIGN_MATRIX_HELP = (
    "每行一个品牌、每列一位评委：勾选即分配，取消勾选即取消分配，然后点“保存分配”。"
    "空白格为须回避的组合（见“回避”列），不能分配；评委已评分的组合不能取消。"
)
ASSIGN_SAVE = "保存分配"
ASSIGN_COL_BLOCKED = "回避"
ASSIGN_CONFLICTS = "回避申报"
ASSIGN_CONFLICTS_EMPTY = "暂无评委申报回避。评委可在打分页申报，管理员也可在下方代为登记。"
ASSIGN_COL_REASON = "原因"
ASSIGN_COL_DECLARED_BY = "登记人"
ASSIGN_COL_AT = "时间"
ASSIGN_DECLARE = "代评委登记回避"
ASSIGN_DECLARE_JUDGE = "评委"
ASSIGN_DECLARE_BRAND = "品牌"
ASSIGN_DECLARE_REASON = "回避原因"
ASSIGN_DECLARE_REASON_HINT = "如：亲属在该支部任职"
ASSIGN_DECLARE_SUBMIT = "登记回避"
ASSIGN_DECLARED = "已登记：{judge} 对品牌 {brand} 回避。"
ASSIGN_WITHDRAW = "撤销回避申报"
ASSIGN_WITHDRAW_PICK = "选择要撤销的申报"
ASSIGN_WITHDRAW_NONE = "目前没有可撤销的回避申报。"
ASSIGN_WITHDRAWN = "已撤销 {judge} 对品牌 {brand} 的回避申报。"

PROGRESS_TITLE = "评分进度"
PROGRESS_CAPTION = "{name}（{status}）· 每份评分表须填完全部 {n} 项指标并提交才算完成"
PROGRESS_NO_BRANDS = "本轮还没有参评品牌，暂无进度。请管理员先在“组织与品牌”页勾选参评品牌。"
PROGRESS_NO_JUDGES = "本轮还没有评委，暂无进度。请管理员先把评委加入本轮并分配品牌。"
PROGRESS_NO_EXPECTED = "本轮还没有分配任何评分任务。请管理员在“评委分配”页分配评委。"
PROGRESS_KPI_EXPECTED = "应评"
PROGRESS_KPI_EXPECTED_HELP = "已分配且无需回避的评分表份数"
PROGRESS_KPI_PERCENT = "完成率"
PROGRESS_PERCENT = "{percent:.1f}%"
PROGRESS_JUDGES = "各评委进度"
PROGRESS_MISSING = "待完成清单"
PROGRESS_MISSING_HELP = "“未开始”为尚未录入任何评分；“草稿”为已开始但未填完全部指标或尚未提交。"
PROGRESS_ALL_DONE = "所有评委都已提交全部评分表，没有待完成的任务。"

# -- 导入评分 (pages/import_scores.py) ----------------------------------------------------
IMPORT_TITLE = "导入评分"
IMPORT_ROUND_LABEL = "导入到轮次"
IMPORT_ROUND_OPTION = "{code} · {status}"
IMPORT_ROUND_CLOSED = (
    "轮次 {code} 当前为“{status}”，只有“评分中”的轮次可以导入评分；可以先上传预检。"
)
IMPORT_NO_ROUNDS = "数据库中还没有评审轮次。请先创建轮次并设置品牌和评委，再导入评分。"
IMPORT_TEMPLATE_HEADER = "1. 下载评分模板"
IMPORT_TEMPLATE_BUTTON = "下载 {code} 评分模板（全部评委）"
IMPORT_TEMPLATE_HELP = (
    "模板每位评委一张工作表。也可上传长表：列为 评委、品牌编号（或品牌名称）、指标、得分，"
    "可选 评语；指标可写名称、“一级指标-二级指标”或编码。空单元格视为未评，不会按 0 分导入。"
)
IMPORT_UPLOAD_HEADER = "2. 上传并预检"
IMPORT_UPLOAD_LABEL = "评分表文件（可多选）"
IMPORT_UPLOAD_EMPTY = (
    "请上传填好的评分表（.xlsx、.xlsm、.xls 或 .ods），系统会先校验全部单元格再决定是否写入。"
)
IMPORT_TOO_BIG = "文件“{name}”有 {size:.1f} MB，超过 {limit} MB 的上限，请拆分后上传。"
IMPORT_READING = "正在读取评分表…"
IMPORT_METRIC_NEW = "新增评分"
IMPORT_METRIC_CHANGED = "修改评分"
IMPORT_METRIC_UNCHANGED = "未变评分"
IMPORT_METRIC_ISSUES = "问题"
IMPORT_COMMENTS_CAPTION = "评语：新增 {new}，修改 {changed}，未变 {unchanged}。"
IMPORT_ISSUES_FOUND = "发现 {n} 处问题，未写入任何数据。请按下表修正后重新上传。"
IMPORT_ANNOTATED = "下载标注问题的“{name}”"
IMPORT_ANNOTATED_HELP = "问题单元格已标红并加批注；第一张工作表列出全部问题。"
IMPORT_NOTHING_TO_DO = "文件与系统中的评分完全一致，没有需要写入的内容。"
IMPORT_CHANGES_HEADER = "将被修改的评分（原值 → 新值）"
IMPORT_COMMENT_CHANGES_HEADER = "将被修改的评语"
IMPORT_READY = (
    "校验通过：将新增 {new} 条、修改 {changed} 条评分。确认后一次性写入，可在下方导入记录中撤销。"
)
IMPORT_CONFIRM = "确认导入"
IMPORT_CANCEL = "取消"
IMPORT_DONE = "已导入（导入编号 {id}）：{summary}"
IMPORT_HISTORY_HEADER = "3. 导入记录"
IMPORT_NO_HISTORY = "本轮还没有导入记录。上传评分表并确认导入后，会在这里列出，并可整体撤销。"
IMPORT_REVERT_PICK = "撤销哪一次导入"
IMPORT_REVERT_BUTTON = "撤销所选导入"
IMPORT_REVERT_ASK = "确定撤销导入 {id}（{files}）？改动过的评分将恢复原值，新增的评分将被删除。"
IMPORT_REVERT_CONFIRM = "确认撤销"
IMPORT_REVERTED = "已撤销导入 {id}。"
IMPORT_NOTHING_TO_REVERT = "没有可撤销的导入。"
