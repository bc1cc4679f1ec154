"""The one catalogue of problems (RFC 9457). Domain code raises these; one handler renders them all, and the HTTP
layer adds the headers a status calls for (`server.http.responses`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    pointer: str
    detail: str

    def as_api(self) -> dict:
        return {"pointer": self.pointer, "detail": self.detail}


class Problem(Exception):
    status = 500
    type = "internal-error"
    title = "服务器内部错误"
    default_detail = "服务器出现意外错误，请稍后重试。"

    def __init__(self, detail: str | None = None, errors: list[FieldProblem] | None = None):
        self.detail = detail or self.default_detail or self.title
        self.errors = list(errors or [])
        super().__init__(self.detail)

    def as_api(self) -> dict:
        body = {"type": f"/problems/{self.type}", "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors:
            body["errors"] = [e.as_api() for e in self.errors]
        return body


class MalformedRequest(Problem):
    status, type, title = 400, "malformed-request", "请求格式错误"
    default_detail = "请求体不是有效的 JSON。"


class NotAuthenticated(Problem):
    status, type, title = 401, "not-authenticated", "未登录或登录已失效"
    default_detail = "请重新登录。"


class BadCredentials(NotAuthenticated):
    type, title = "bad-credentials", "用户名或密码错误"
    default_detail = "用户名或密码错误，或账号已停用。"


class Forbidden(Problem):
    status, type, title = 403, "forbidden", "无权进行此操作"
    default_detail = "您的角色无权进行此操作。"


class NotFound(Problem):
    status, type, title = 404, "not-found", "未找到"
    default_detail = "请求的资源不存在，或您无权查看。"


class AreaNotFound(NotFound):
    type, title = "area-not-found", "未找到该区域"
    default_detail = "该区域不存在，或不在您的管辖范围内。"


class UserNotFound(NotFound):
    type, title = "user-not-found", "未找到该用户"
    default_detail = "该用户不存在，或不在您的管辖范围内。"


class FormNotFound(NotFound):
    type, title = "form-not-found", "未找到该表单"
    default_detail = "该表单不存在，或您无权查看。"


class HouseholdNotFound(NotFound):
    type, title = "household-not-found", "未找到该户"
    default_detail = "该户不存在，或不在您的管辖范围内。"


class MemberNotFound(NotFound):
    type, title = "member-not-found", "未找到该成员"
    default_detail = "该成员不存在，或不在您的管辖范围内。"


class SubmissionNotFound(NotFound):
    type, title = "submission-not-found", "未找到该提交"
    default_detail = "该提交不存在，或不在您的管辖范围内。"


class AttachmentNotFound(NotFound):
    type, title = "attachment-not-found", "未找到该照片"
    default_detail = "该照片不存在，或您无权查看。"


class ThumbnailUnavailable(NotFound):
    type, title = "thumbnail-unavailable", "无法生成缩略图"
    default_detail = "该照片无法解码，无法生成缩略图；原图仍可查看。"


class ConflictNotFound(NotFound):
    type, title = "conflict-not-found", "未找到该冲突"
    default_detail = "该冲突记录不存在，或不在您的管辖范围内。"


class MergeNotFound(NotFound):
    type, title = "merge-not-found", "未找到该合并"
    default_detail = "该合并记录不存在，或不在您的管辖范围内。"


class LedgerNotFound(NotFound):
    type, title = "ledger-not-found", "没有这种台账"
    default_detail = "台账只有 elderly（老年人）、children（儿童）、disability（残疾人）和 assistance（低保、特困家庭）四种。"


class ExportNotFound(NotFound):
    type, title = "export-not-found", "未找到该导出"
    default_detail = "该导出不存在，或不在您的管辖范围内。"


class NeedNotFound(NotFound):
    type, title = "need-not-found", "未找到该需求"
    default_detail = "该需求不存在，或不在您的管辖范围内。"


class ProviderNotFound(NotFound):
    type, title = "provider-not-found", "未找到该服务机构"
    default_detail = "该服务机构不存在，或您无权查看。"


class CatalogueItemNotFound(NotFound):
    type, title = "catalogue-item-not-found", "未找到该服务项目"
    default_detail = "服务项目目录中没有该项目。"


class MethodNotAllowed(Problem):
    status, type, title = 405, "method-not-allowed", "不支持该请求方法"
    default_detail = "该地址不支持此请求方法。"

    def __init__(self, allowed: list[str]):
        self.allowed = allowed
        super().__init__()


class Conflict(Problem):
    status, type, title = 409, "conflict", "与现有数据冲突"
    default_detail = "该操作与现有数据冲突。"


class WrongState(Conflict):
    """An action the need's state (or its version, changed by someone else meanwhile) does not allow."""

    type, title = "wrong-state", "当前状态不允许此操作"
    default_detail = "该需求的状态已变化，不允许此操作；请刷新后再试。"


class IdInUse(Conflict):
    type, title = "id-in-use", "该编号已被使用"
    default_detail = "该编号已用于另一份内容不同的数据；重发时请保持内容不变，新数据请使用新编号。"


class ExportNotReady(Conflict):
    type, title = "export-not-ready", "导出尚未完成"
    default_detail = "该导出尚未完成，请稍后再下载。"


class ExportNotRestartable(Conflict):
    type, title = "export-not-restartable", "该导出无须重新开始"
    default_detail = "只有失败或已过期的导出可以重新开始。"


class ExportExpired(Problem):
    status, type, title = 410, "export-expired", "导出文件已过期删除"
    default_detail = "该导出的文件已超过保存期限并已删除；可以重新开始导出。"


class HouseholdMerged(Problem):
    """A file merged into another: gone from here, with the survivor's id when the caller may see it."""

    status, type, title = 410, "household-merged", "该户已合并"
    default_detail = "该户档案已合并到另一户，其走访、照片和成员都在合并后的户中。"

    def __init__(self, merged_into: str | None):
        self.merged_into = merged_into
        super().__init__()

    def as_api(self) -> dict:
        return super().as_api() | {"merged_into": self.merged_into}


class TooLarge(Problem):
    status, type, title = 413, "too-large", "请求体过大"
    default_detail = "请求体超过了允许的大小。"


class UriTooLong(Problem):
    status, type, title = 414, "uri-too-long", "请求地址过长"
    default_detail = "请求地址（含查询参数）超过了允许的长度。"


class UnsupportedMediaType(Problem):
    status, type, title = 415, "unsupported-media-type", "不支持的内容类型"
    default_detail = "请求的 Content-Type 不受支持。"


class RangeNotSatisfiable(Problem):
    status, type, title = 416, "range-not-satisfiable", "请求的范围超出文件"
    default_detail = "请求的字节范围超出了文件的大小。"

    def __init__(self, size: int):
        self.size = size
        super().__init__(f"文件共 {size} 字节，请求的范围超出了它。")


class InvalidInput(Problem):
    status, type, title = 422, "invalid-input", "提交的数据有误"
    default_detail = "提交的数据未通过校验，请按提示修改。"


class PhotoRejected(InvalidInput):
    type, title = "photo-rejected", "照片无法接收"
    default_detail = "照片内容有误，请检查后重新上传。"


class AttachmentsMissing(InvalidInput):
    """Photos a submission refers to that are not stored yet; the phone uploads them and sends the same PUT again."""

    type, title = "attachments-missing", "照片尚未上传"
    default_detail = "提交引用的照片尚未上传，请先上传这些照片，再重新发送同一提交。"

    def __init__(self, missing: list[str], errors: list[FieldProblem]):
        self.missing = missing
        super().__init__(errors=errors)

    def as_api(self) -> dict:
        return super().as_api() | {"missing": self.missing}


class TooManyAttempts(Problem):
    status, type, title = 429, "too-many-attempts", "尝试次数过多"
    default_detail = "登录失败次数过多，请稍后再试。"

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__()


class HttpError(Problem):
    """An HTTP error of the framework's own (a bad request line, a missing range, …), its status kept."""

    type, title = "http-error", "请求无法处理"

    def __init__(self, status: int, detail: str | None = None):
        self.status = status
        super().__init__(detail)


class NotReady(Problem):
    status, type, title = 503, "not-ready", "服务暂不可用"
    default_detail = "数据库或存储暂时无法访问。"


def invalid(pointer: str, detail: str) -> InvalidInput:
    """One failing field: the common case of a 422."""
    return InvalidInput(errors=[FieldProblem(pointer, detail)])
