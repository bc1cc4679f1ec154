"""check(): wrong data is refused with a pointer and a zh-CN message naming the question."""

from __future__ import annotations

import pytest

from forms import FieldError, check, compile_form
from form_samples import id_number

PERSON = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "size", "sex"],
    "properties": {
        "name": {"type": "string", "title": "户主姓名", "minLength": 2, "maxLength": 4},
        "size": {"type": "integer", "title": "家庭人口数", "minimum": 1, "maximum": 20},
        "sex": {"title": "性别", "enum": ["male", "female"]},
        "born": {"type": "string", "title": "出生日期", "format": "date"},
        "at": {"type": "string", "title": "走访时间", "format": "date-time"},
        "clock": {"type": "string", "title": "约定时间", "format": "time"},
        "mail": {"type": "string", "title": "电子邮箱", "format": "email"},
        "id": {"type": "string", "title": "身份证号", "format": "cn-id-number"},
        "phone": {"type": "string", "title": "手机号", "format": "cn-mobile"},
        "income": {"type": "number", "title": "月收入", "exclusiveMinimum": 0, "multipleOf": 0.01},
        "kind": {"title": "救助类型", "oneOf": [{"const": "dibao", "title": "低保"}, {"const": "tekun", "title": "特困"}]},
        "tags": {"type": "array", "title": "标签", "uniqueItems": True, "maxItems": 2,
                 "items": {"enum": ["elderly", "child", "disability"]}},
        "code": {"type": "string", "title": "门牌号", "pattern": "^[0-9]+号$"},
        "members": {"type": "array", "title": "家庭成员", "minItems": 1,
                    "items": {"type": "object", "title": "成员", "required": ["name"],
                              "properties": {"name": {"type": "string", "title": "姓名"},
                                             "id_number": {"type": "string", "title": "身份证号", "format": "cn-id-number"}}}},
    },
}
OK = {"name": "李桂兰", "size": 3, "sex": "female"}
ID = id_number()

BAD_DATA = [
    # (case, data, pointer, detail)
    ("root_not_an_object", ["李桂兰"], "", "「本表单」应为一组填写项"),
    ("wrong_type_integer", {**OK, "size": "三"}, "/size", "「家庭人口数」应为整数"),
    ("wrong_type_float_for_integer", {**OK, "size": 2.5}, "/size", "「家庭人口数」应为整数"),
    ("wrong_type_string", {**OK, "name": 12}, "/name", "「户主姓名」应为文本"),
    ("missing_required", {"size": 3, "sex": "male"}, "/name", "缺少必填项「户主姓名」"),
    ("below_minimum", {**OK, "size": 0}, "/size", "「家庭人口数」不能小于 1"),
    ("above_maximum", {**OK, "size": 21}, "/size", "「家庭人口数」不能大于 20"),
    ("exclusive_minimum", {**OK, "income": 0}, "/income", "「月收入」应大于 0"),
    ("multiple_of", {**OK, "income": 0.001}, "/income", "「月收入」应为 0.01 的倍数"),
    ("too_short", {**OK, "name": "李"}, "/name", "「户主姓名」至少要填 2 个字"),
    ("too_long", {**OK, "name": "欧阳李桂兰"}, "/name", "「户主姓名」最多只能填 4 个字"),
    ("unknown_choice", {**OK, "sex": "男"}, "/sex", "「性别」的选项无效"),
    ("unknown_labelled_choice", {**OK, "kind": "wubao"}, "/kind", "「救助类型」的选项无效"),
    ("unknown_choice_in_list", {**OK, "tags": ["elderly", "rich"]}, "/tags/1", "「标签」的选项无效"),
    ("duplicate_in_list", {**OK, "tags": ["child", "child"]}, "/tags", "「标签」中有重复的项"),
    ("too_many_in_list", {**OK, "tags": ["child", "elderly", "disability"]}, "/tags", "「标签」最多只能有 2 项"),
    ("pattern", {**OK, "code": "十二号"}, "/code", "「门牌号」的填写格式不正确"),
    ("bad_date", {**OK, "born": "1958-02-30"}, "/born", "「出生日期」不是有效的日期"),
    ("date_with_slashes", {**OK, "born": "1958/03/12"}, "/born", "「出生日期」不是有效的日期"),
    ("date_time_without_offset", {**OK, "at": "2025-03-18T09:42:10"}, "/at", "「走访时间」不是有效的日期时间"),
    ("bad_time", {**OK, "clock": "25:00:00Z"}, "/clock", "「约定时间」不是有效的时间"),
    ("bad_email", {**OK, "mail": "li at example.com"}, "/mail", "「电子邮箱」不是有效的电子邮箱地址"),
    ("id_check_digit", {**OK, "id": ID[:-1] + ("0" if ID[-1] != "0" else "1")}, "/id", "「身份证号」校验位错误"),
    ("id_birth_date", {**OK, "id": id_number(born="19580230")}, "/id", "「身份证号」中的出生日期无效"),
    ("id_too_short", {**OK, "id": ID[:15]}, "/id", "「身份证号」应为 18 位数字（最后一位可为 X）"),
    ("id_lowercase_x", {**OK, "id": "11010519491231002x"}, "/id", "「身份证号」应为 18 位数字（最后一位可为 X）"),
    ("id_region_starts_with_9", {**OK, "id": "9" + ID[1:]}, "/id", "「身份证号」应为 18 位数字（最后一位可为 X）"),
    ("bad_mobile", {**OK, "phone": "12345678901"}, "/phone", "「手机号」不是有效的手机号码"),
    ("landline_is_not_mobile", {**OK, "phone": "0731-8888888"}, "/phone", "「手机号」不是有效的手机号码"),
    ("extra_field_where_forbidden", {**OK, "wealth": 1}, "/wealth", "「wealth」不是本表单的题目，不应填写"),
    ("empty_rows", {**OK, "members": []}, "/members", "「家庭成员」至少要有 1 项"),
    ("row_missing_required", {**OK, "members": [{"name": "甲"}, {}]}, "/members/1/name", "缺少必填项「姓名」"),
    ("row_bad_id", {**OK, "members": [{"name": "甲", "id_number": "123"}]}, "/members/0/id_number",
     "「身份证号」应为 18 位数字（最后一位可为 X）"),
    ("row_not_an_object", {**OK, "members": ["甲"]}, "/members/0", "「成员」应为一组填写项"),
]


@pytest.fixture(scope="module")
def person():
    return compile_form(PERSON, {})


@pytest.mark.parametrize("case, data, pointer, detail", BAD_DATA, ids=[c[0] for c in BAD_DATA])
def test_wrong_answer_is_refused_with_pointer_and_message(person, case, data, pointer, detail):
    assert FieldError(pointer, detail) in check(person, data)


@pytest.mark.parametrize("data", [
    OK,
    {**OK, "born": "1958-03-12", "at": "2025-03-18T09:42:10+08:00", "clock": "09:30:00Z", "mail": "li@example.cn",
     "id": ID, "phone": "13807312456", "income": 1234.56, "kind": "tekun", "tags": ["elderly"], "code": "12号",
     "members": [{"name": "甲", "id_number": "11010519491231002X"}]},
], ids=["required_only", "everything"])
def test_right_answers_pass(person, data):
    assert check(person, data) == []


def test_every_error_is_reported_at_once(person):
    errors = check(person, {"size": 0, "sex": "?", "born": "昨天"})
    assert {e.pointer for e in errors} == {"/name", "/size", "/sex", "/born"}


def test_non_json_data_is_refused(person):
    assert check(person, {**OK, "size": {1, 2}}) == [FieldError("", "提交内容不是有效的 JSON")]


# --- show conditions -----------------------------------------------------------------------------

VISIT = {
    "type": "object",
    "required": ["mode", "photos", "disabled", "level", "members"],
    "properties": {
        "mode": {"title": "走访方式", "enum": ["onsite", "phone"]},
        "photos": {"type": "array", "title": "走访照片", "minItems": 1, "items": {"type": "string", "format": "sha256"}},
        "disabled": {"type": "boolean", "title": "是否残疾"},
        "level": {"title": "残疾等级", "enum": [1, 2, 3, 4]},
        "age": {"type": "integer", "title": "年龄"},
        "pension": {"type": "number", "title": "养老金"},
        "members": {"type": "array", "title": "家庭成员", "items": {
            "type": "object", "required": ["work", "school"],
            "properties": {"work": {"title": "就业状况", "enum": ["student", "farming"]},
                           "school": {"type": "string", "title": "就读学校"}}}},
    },
}
VISIT_UI = {"questions": {
    "/photos": {"widget": "photo", "show": {"q": "/mode", "equals": "onsite"}},
    "/level": {"show": {"q": "/disabled", "equals": True}},
    "/pension": {"show": {"any": [{"q": "/age", "min": 60}, {"not": {"q": "/disabled", "equals": False}}]}},
    "/members/*/school": {"show": {"q": "/members/*/work", "equals": "student"}},
}}
PHOTO = "a" * 64

CONDITIONAL = [
    # (case, data, errors)
    ("shown_and_answered", {"mode": "onsite", "photos": [PHOTO], "disabled": True, "level": 2, "members": []}, []),
    ("hidden_and_unanswered_required_is_fine", {"mode": "phone", "disabled": False, "age": 30, "members": []}, []),
    ("shown_required_missing", {"mode": "onsite", "disabled": False, "age": 30, "members": []},
     [FieldError("/photos", "缺少必填项「走访照片」")]),
    ("hidden_but_answered", {"mode": "phone", "photos": [PHOTO], "disabled": False, "age": 30, "members": []},
     [FieldError("/photos", "「走访照片」在当前情况下不应填写")]),
    ("hidden_and_answered_wrongly_reports_once", {"mode": "phone", "photos": "x", "disabled": False, "age": 30, "members": []},
     [FieldError("/photos", "「走访照片」在当前情况下不应填写")]),
    ("any_not_min", {"mode": "phone", "disabled": False, "age": 70, "pension": 1200, "members": []}, []),
    ("any_not_min_hidden", {"mode": "phone", "disabled": False, "age": 50, "pension": 1200, "members": []},
     [FieldError("/pension", "「养老金」在当前情况下不应填写")]),
    ("not_absent_counts_as_shown", {"mode": "phone", "pension": 1200, "members": []},
     [FieldError("/disabled", "缺少必填项「是否残疾」")]),
    ("rows_refer_to_their_own_row",
     {"mode": "phone", "disabled": False, "members": [{"work": "student", "school": "凤凰小学"}, {"work": "farming"}]}, []),
    ("row_hidden_but_answered",
     {"mode": "phone", "disabled": False, "members": [{"work": "farming", "school": "凤凰小学"}]},
     [FieldError("/members/0/school", "「就读学校」在当前情况下不应填写")]),
    ("row_shown_required_missing",
     {"mode": "phone", "disabled": False, "members": [{"work": "farming"}, {"work": "student"}]},
     [FieldError("/members/1/school", "缺少必填项「就读学校」")]),
    ("level_hidden_when_disabled_false", {"mode": "phone", "disabled": False, "level": 1, "members": []},
     [FieldError("/level", "「残疾等级」在当前情况下不应填写")]),
    ("equals_true_is_not_equals_1", {"mode": "phone", "disabled": 1, "level": 1, "members": []},
     [FieldError("/disabled", "「是否残疾」应为是或否"), FieldError("/level", "「残疾等级」在当前情况下不应填写")]),
]


@pytest.fixture(scope="module")
def visit():
    return compile_form(VISIT, VISIT_UI)


@pytest.mark.parametrize("case, data, errors", CONDITIONAL, ids=[c[0] for c in CONDITIONAL])
def test_conditions_decide_what_may_and_must_be_answered(visit, case, data, errors):
    assert sorted(check(visit, data), key=lambda e: e.pointer) == sorted(errors, key=lambda e: e.pointer)


def test_photo_pointers_list_answers_to_photo_questions(visit):
    data = {"mode": "onsite", "photos": [PHOTO, "b" * 64], "disabled": False, "members": []}
    assert visit.photo_pointers(data) == [("/photos/0", PHOTO), ("/photos/1", "b" * 64)]


def test_question_titles_are_keyed_by_template(visit):
    titles = visit.question_titles()
    assert titles["/members/*/school"] == "就读学校" and titles["/mode"] == "走访方式"
