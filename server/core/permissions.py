"""The one table of who may do what: each action, the roles that may do it, and what it means in words.

Every route names its action, and the HTTP layer checks it before it reads a body, so a role that may not act is
answered 403 whatever it sent. What a role may do is only half of it: the scope (`server.core.scope`) then
decides which records, and a record outside it is a 404. Domain code asks `allows` where a role changes what a
caller sees or how far an act reaches (drafts, evidence warnings, the area levels a supervisor may touch).
The docs print this table (`docs/api.md`), and one test walks every route of it for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.core.caller import Caller
from server.core.problems import Forbidden
from server.models import ROLES

ROLE_NAMES = {"admin": "管理员", "bureau": "民政局", "supervisor": "督导", "worker": "社工", "provider": "服务机构"}
EVERYONE = frozenset(ROLES)


@dataclass(frozen=True)
class Action:
    name: str
    roles: frozenset[str]
    meaning: str  # zh-CN, as the console and the docs show it


def _action(name: str, roles: frozenset[str] | tuple[str, ...], meaning: str) -> Action:
    unknown = set(roles) - EVERYONE
    assert not unknown, f"{name}: unknown roles {unknown}"
    return Action(name, frozenset(roles), meaning)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    _action("account.self", EVERYONE, "查看自己的账号，退出登录"),
    _action("area.read", EVERYONE, "查看辖区内的区域"),
    _action("area.manage", ("admin", "supervisor"), "新增、改名区域（督导仅限本乡镇（街道）的社区（村））"),
    _action("area.manage_tree", ("admin",), "新增区（县）和乡镇（街道），调整区域的上级"),
    _action("standard.read", ("admin", "bureau", "supervisor", "worker"), "查看区域的低保、特困供养标准"),
    _action("standard.set", ("admin", "bureau"), "录入区域的低保、特困供养标准（记入操作日志）"),
    _action("user.list", ("admin", "bureau", "supervisor"), "查看辖区内的用户名单"),
    _action("user.read", EVERYONE, "查看一个用户（社工和服务机构只能看自己）"),
    _action("user.create", ("admin", "supervisor"), "创建用户（督导只能为本乡镇（街道）创建社工）"),
    _action("user.update", EVERYONE, "修改用户（本人只能改姓名和密码；督导管理本乡镇（街道）的社工）"),
    _action("user.assign_roles", ("admin",), "创建任意角色的用户，修改用户的角色和服务机构"),
    _action("login.lift_throttle", ("admin",), "查看登录限制，解除某账号或某地址的登录限制"),
    _action("audit.read", ("admin", "bureau"), "查看操作日志（民政局限本区（县）人员的操作）"),
    _action("catalogue.read", EVERYONE, "查看服务项目目录"),
    _action("catalogue.manage", ("admin",), "新增、改名、停用服务项目，设定各紧急程度的默认办理天数"),
    _action("form.read", EVERYONE, "查看可填写的表单和已发布的版本"),
    _action("form.read_drafts", ("admin", "bureau", "supervisor"), "查看表单草稿和已停用的表单"),
    _action("form.design", ("admin", "supervisor"), "新建表单，修改草稿，发布，停用"),
    _action("form.design_any", ("admin",), "设计任何区域的表单，以及不属于任何区域的内置表单"),
    _action("household.register", ("admin", "supervisor", "worker"), "登记新户"),
    _action("household.read", EVERYONE, "查看户档案（服务机构只能经派给它的需求查看）"),
    _action("household.archive", ("admin", "bureau", "supervisor"), "导出一户的档案包：PDF 摘要、数据和全部照片（ZIP）"),
    _action("household.correct", ("admin", "supervisor", "worker"), "更正户档案：住址、户主、电话、位置、情况和成员，写明原因"),
    _action("household.move", ("admin", "supervisor"), "把户迁到辖区内的另一个社区（村）"),
    _action("household.merge", ("admin", "supervisor"), "合并同一户的两份档案（限同一乡镇（街道）），撤销合并"),
    _action("household.reveal_id", ("admin", "bureau", "supervisor"), "查看成员完整的身份证号（记入操作日志）"),
    _action("export.start", ("admin", "bureau", "supervisor"), "批量导出一个区域内某期间走访过的全部户档案（后台任务），重新开始失败或过期的导出（记入操作日志）"),
    _action("export.read", ("admin", "bureau", "supervisor"), "查看辖区内的批量导出及其进度，下载导出的档案包（下载记入操作日志）"),
    _action("conflict.resolve", ("admin", "supervisor"), "处理户档案的离线冲突"),
    _action("household.sync", ("admin", "supervisor", "worker"), "离线同步：下载辖区内可填写的表单和户档案的变化"),
    _action("photo.upload", ("admin", "supervisor", "worker", "provider"), "上传照片"),
    _action("photo.read", EVERYONE, "查看能看到的提交所用的照片；查询照片是否已上传（自己上传过的也算）"),
    _action("photo.orphans", ("admin",), "查看无提交引用的照片报告"),
    _action("submission.create", ("admin", "supervisor", "worker"), "提交走访表单，更正被退回的提交"),
    _action("submission.read", EVERYONE, "查看提交"),
    _action("submission.review", ("admin", "supervisor"), "审核提交：通过或退回"),
    _action("submission.see_flags", ("admin", "bureau", "supervisor"), "查看提交的证据提示（评价者可见，被评价者不可见）"),
    _action("submission.export", ("admin", "bureau", "supervisor"), "导出表单数据（XLSX、CSV）"),
    _action("ledger.read", ("admin", "bureau", "supervisor", "worker"), "查看和导出辖区内的台账（老年人、儿童、残疾人、低保和特困家庭）"),
    _action("visit_plan.due", ("admin", "supervisor", "worker"), "查看辖区内到期和逾期应探访的对象"),
    _action("need.read", EVERYONE, "查看需求清单（服务机构只看派给本机构的需求，且只见最少的住户信息）"),
    _action("need.raise", ("admin", "supervisor", "worker"), "录入需求；记录住户同意向服务机构提供的联系方式"),
    _action("need.dispatch", ("admin", "supervisor"), "查看匹配的服务机构，派单，改派逾期的需求"),
    _action("need.serve", ("admin", "provider"), "接单、拒单、开始服务、完成服务（附说明、照片和住户确认）"),
    _action("need.evaluate", ("admin", "supervisor", "worker"), "记录住户对已完成服务的评价"),
    _action("need.close", ("admin", "supervisor"), "写明原因关闭需求"),
    _action("provider.read", EVERYONE, "查看服务机构、其服务区域、账号和供给清单（服务机构只看本机构）"),
    _action("provider.manage", ("admin",), "新增服务机构并设定其服务区域"),
    _action("offer.manage", ("admin", "provider"), "维护供给清单：服务项目、每月名额、免费或收费、联系方式（服务机构只改本机构）"),
    _action("report.needs", ("admin", "bureau", "supervisor"), "查看和导出辖区内需求的月度统计（按区域、服务类别、服务机构）"),
    _action("report.approve", ("admin", "bureau", "supervisor"),
            "月度结账：乡镇（街道）审核并冻结需求统计（督导），区（县）再审核（民政局）"),
    _action("visit_plan.overdue", ("admin", "bureau", "supervisor"), "按社区（村）和社工统计逾期未探访的对象"),
)}


def allows(caller: Caller, action: str) -> bool:
    return caller.role in ACTIONS[action].roles


def require(caller: Caller, action: str, detail: str | None = None) -> None:
    if not allows(caller, action):
        raise Forbidden(detail)


def as_api() -> dict:
    """The table as the console shows it in words: the roles' names, then each action with its meaning and roles."""
    return {"roles": [{"role": r, "name": ROLE_NAMES[r]} for r in ROLES],
            "items": [{"action": a.name, "meaning": a.meaning, "roles": [r for r in ROLES if r in a.roles]}
                      for a in ACTIONS.values()]}


def as_markdown() -> str:
    """The table as the docs print it: one row per action, one column per role."""
    head = "| 操作 | 含义 | " + " | ".join(f"{ROLE_NAMES[r]} `{r}`" for r in ROLES) + " |"
    rule = "|---|---|" + "---|" * len(ROLES)
    rows = [f"| `{a.name}` | {a.meaning} | " + " | ".join("✓" if r in a.roles else "" for r in ROLES) + " |"
            for a in ACTIONS.values()]
    return "\n".join([head, rule, *rows])
