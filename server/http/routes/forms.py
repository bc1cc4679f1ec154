from starlette.requests import Request
from starlette.responses import Response

from server.core.ids import SLUG_CHARACTERS, SLUG_LENGTH
from server.http.bodies import obj, text, uuid_field
from server.http.conditional import not_modified
from server.http.responses import ApiResponse
from server.http.routes import accepts, replies
from server.http.schemas import CURSOR, IF_NONE_MATCH, IMMUTABLE, NOT_MODIFIED, reply
from server.surveys import catalogue, versions as form_versions

SLUG = text("表单代号", SLUG_LENGTH[1], SLUG_LENGTH[0], pattern=SLUG_CHARACTERS)
DEFINITION = {
    "title": text("表单标题", 200),
    "schema": {"type": "object", "title": "表单结构"},
    "ui": {"type": "object", "title": "界面提示"},
}
CREATE = obj({"slug": SLUG, "area": uuid_field("所属区域"), **DEFINITION}, ("slug", "title", "schema"))
DRAFT = obj(DEFINITION, ("title", "schema"))
ITEM_CODE = text("项目代号", 64, 2, pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
DAYS = {"type": "object", "title": "各紧急程度的默认办理天数", "properties": {
    urgency: {"type": "integer", "title": f"{name}需求的办理天数", "minimum": 1, "maximum": 365}
    for urgency, name in (("normal", "一般"), ("high", "较急"), ("urgent", "紧急"))}, "additionalProperties": False}
NEW_ITEM = obj({"code": ITEM_CODE, "name": text("项目名称", 100), "category": text("服务类别", 64), "days": DAYS},
               ("code", "name", "category"))
CHANGE_ITEM = obj({"name": text("项目名称", 100), "days": DAYS,
                   "retired": {"type": "boolean", "title": "停用（true）或恢复（false）"}})


@replies({200: reply("Catalogue")})
async def get_catalogue(request: Request) -> Response:
    """查看服务项目目录：类别及其项目（一页即全部）"""
    return ApiResponse({"items": await catalogue.get_catalogue(), "next_cursor": None})


@replies({201: reply("CatalogueItem", "已新增的服务项目")})
@accepts(NEW_ITEM)
async def add_catalogue_item(request: Request, body: dict) -> Response:
    """新增服务项目"""
    item = await catalogue.add_item(request.user, body)
    return ApiResponse(catalogue.item_as_api(item), status_code=201)


@replies({200: reply("CatalogueItem", "修改后的服务项目")})
@accepts(CHANGE_ITEM)
async def change_catalogue_item(request: Request, body: dict) -> Response:
    """改名、设定默认办理天数、停用或恢复服务项目（从不删除；仍有未办结需求或供给使用的项目不能停用）"""
    item = await catalogue.change_item(request.user, request.path_params["code"], body)
    return ApiResponse(catalogue.item_as_api(item))


@replies({200: reply("FormPage")}, params=(CURSOR,))
async def list_forms(request: Request) -> Response:
    """查看可填写（设计者：可设计）的表单"""
    page = await form_versions.list_forms(request.user, request.query_params.get("cursor"))
    return ApiResponse(page.as_api())


@replies({201: reply("Form", "已新建的表单及其草稿")})
@accepts(CREATE)
async def create_form(request: Request, body: dict) -> Response:
    """新建表单（带草稿）"""
    form = await form_versions.create_form(request.user, body)
    return ApiResponse(form_versions.as_api(form, request.user), status_code=201)


@replies({200: reply("Form")})
async def get_form(request: Request) -> Response:
    """查看表单：最新版本号，设计者另见草稿"""
    form = await form_versions.get_form(request.user, request.path_params["slug"])
    return ApiResponse(form_versions.as_api(form, request.user))


@replies({200: reply("Form", "草稿已替换的表单")})
@accepts(DRAFT)
async def replace_draft(request: Request, body: dict) -> Response:
    """替换表单草稿"""
    form = await form_versions.replace_draft(request.user, request.path_params["slug"], body)
    return ApiResponse(form_versions.as_api(form, request.user))


@replies({201: reply("Published")})
async def publish(request: Request) -> Response:
    """发布草稿为下一个版本（发布后永不改变）"""
    version = await form_versions.publish(request.user, request.path_params["slug"])
    return ApiResponse({"version": version.version}, status_code=201)


@replies({200: reply("Form", "已停用的表单")})
async def retire(request: Request) -> Response:
    """停用表单：不再接收新提交，已有提交仍可查看"""
    form = await form_versions.retire(request.user, request.path_params["slug"])
    return ApiResponse(form_versions.as_api(form, request.user))


@replies({200: reply("FormVersion", headers=IMMUTABLE), 304: NOT_MODIFIED}, params=(IF_NONE_MATCH,))
async def get_version(request: Request) -> Response:
    """查看一个已发布的版本（带 ETag，永不改变，可长期缓存）"""
    version = await form_versions.get_version(request.user, request.path_params["slug"], request.path_params["version"])
    etag = f'"{version.etag}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=31536000, immutable"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return ApiResponse(form_versions.version_as_api(version), headers=headers)
