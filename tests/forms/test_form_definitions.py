"""check_definition: every bad definition the issue lists is refused, pointing at the culprit."""

from __future__ import annotations

import pytest

from forms import FormDefinitionError, check_definition, compile_form

NAME = {"type": "string", "title": "户主姓名"}


def form(properties: dict | None = None, **extra) -> dict:
    return {"type": "object", "properties": properties if properties is not None else {"name": NAME}, **extra}


def deep(levels: int) -> dict:
    schema: dict = {"type": "string", "title": "最里层"}
    for i in range(levels):
        schema = {"type": "object", "title": f"第 {i} 层", "properties": {"x": schema}}
    return form({"x": schema})


def nested_lists(levels: int) -> list:
    value: list = []
    for _ in range(levels):
        value = [value]
    return value


BAD_DEFINITIONS = [
    # (case, schema, ui, pointer, words in the detail)
    ("schema_not_an_object", ["type", "object"], {}, "/schema", "JSON 对象"),
    ("ui_not_an_object", form(), "pages", "/ui", "JSON 对象"),
    ("not_a_2020_12_schema", form(minProperties=-1), {}, "/schema/minProperties", "2020-12"),
    ("type_is_not_a_type", form({"age": {"type": "integr", "title": "年龄"}}), {}, "/schema/properties/age/type", "2020-12"),
    ("other_draft", {"$schema": "http://json-schema.org/draft-07/schema#", **form()}, {}, "/schema/$schema", "2020-12"),
    ("root_is_not_an_object", {"type": "array", "items": NAME}, {}, "/schema/type", "根应为对象"),
    ("unresolvable_ref", form({"name": {"$ref": "#/$defs/missing", "title": "姓名"}}), {},
     "/schema/properties/name/$ref", "无法解析"),
    ("remote_ref", form({"name": {"$ref": "https://example.com/person.json", "title": "姓名"}}), {},
     "/schema/properties/name/$ref", "无法解析"),
    ("regex_that_does_not_compile", form({"phone": {"type": "string", "title": "电话", "pattern": "([0-9]+"}}), {},
     "/schema/properties/phone/pattern", "无法编译"),
    ("pattern_property_that_does_not_compile", form(patternProperties={"[a-": {"type": "string"}}), {},
     "/schema/patternProperties/[a-", "无法编译"),
    ("question_without_title", form({"age": {"type": "integer"}}), {}, "/schema/properties/age", "缺少标题"),
    ("row_question_without_title",
     form({"members": {"type": "array", "title": "成员", "items": {"type": "object", "properties": {"age": {"type": "integer"}}}}}),
     {}, "/schema/properties/members/items/properties/age", "缺少标题"),
    ("hint_names_missing_question", form(), {"questions": {"/age": {"help": "周岁"}}}, "/ui/questions/~1age", "不存在的题目"),
    ("page_names_missing_question", form(), {"pages": [{"title": "基本", "questions": ["/name", "/age"]}]},
     "/ui/pages/0/questions/1", "不存在的题目"),
    ("question_on_two_pages", form(), {"pages": [{"title": "一", "questions": ["/name"]}, {"title": "二", "questions": ["/name"]}]},
     "/ui/pages/1/questions/0", "已放在第 1 页"),
    ("unknown_widget", form(), {"questions": {"/name": {"widget": "slider"}}}, "/ui/questions/~1name/widget", "界面提示写法不正确"),
    ("unknown_hint", form(), {"questions": {"/name": {"colour": "red"}}}, "/ui/questions/~1name", "界面提示写法不正确"),
    ("widget_does_not_fit", form(), {"questions": {"/name": {"widget": "photo"}}}, "/ui/questions/~1name/widget", "不适用"),
    ("label_for_missing_choice", form({"sex": {"title": "性别", "enum": ["male", "female"]}}),
     {"questions": {"/sex": {"choices": {"male": "男", "unknown": "未知"}}}}, "/ui/questions/~1sex/choices/unknown", "没有选项"),
    ("condition_on_missing_question", form(), {"questions": {"/name": {"show": {"q": "/age", "min": 18}}}},
     "/ui/questions/~1name/show/q", "不存在的题目"),
    ("condition_on_itself", form(), {"questions": {"/name": {"show": {"q": "/name", "answered": True}}}},
     "/ui/questions/~1name/show/q", "自己"),
    ("circular_conditions",
     form({"a": {"type": "boolean", "title": "甲"}, "b": {"type": "boolean", "title": "乙"}}),
     {"questions": {"/a": {"show": {"q": "/b", "equals": True}}, "/b": {"show": {"q": "/a", "equals": True}}}},
     "/ui/questions/~1a/show", "循环"),
    ("contradictory_conditions",
     form({"sex": {"title": "性别", "enum": ["male", "female"]}, "pregnant": {"type": "boolean", "title": "是否怀孕"}}),
     {"questions": {"/pregnant": {"show": {"all": [{"q": "/sex", "equals": "male"}, {"q": "/sex", "equals": "female"}]}}}},
     "/ui/questions/~1pregnant/show", "永远不会成立"),
    ("condition_on_a_value_that_is_not_a_choice",
     form({"sex": {"title": "性别", "enum": ["male", "female"]}, "note": {"type": "string", "title": "备注"}}),
     {"questions": {"/note": {"show": {"q": "/sex", "equals": "男"}}}}, "/ui/questions/~1note/show", "永远不会成立"),
    ("condition_on_a_question_that_is_never_shown",
     form({"a": {"type": "boolean", "title": "甲"}, "b": {"type": "boolean", "title": "乙"}, "c": {"type": "string", "title": "丙"}}),
     {"questions": {"/b": {"show": {"q": "/a", "equals": True}},
                    "/c": {"show": {"all": [{"q": "/a", "equals": False}, {"q": "/b", "equals": True}]}}}},
     "/ui/questions/~1c/show", "永远不会成立"),
    ("condition_on_another_row",
     form({"kids": {"type": "array", "title": "子女", "items": {"type": "object", "properties": {"age": {"type": "integer", "title": "年龄"}}}},
           "note": {"type": "string", "title": "备注"}}),
     {"questions": {"/note": {"show": {"q": "/kids/*/age", "min": 6}}}}, "/ui/questions/~1note/show/q", "另一个列表"),
    ("malformed_condition", form(), {"questions": {"/name": {"show": {"q": "/name", "equals": 1, "in": [1]}}}},
     "/ui/questions/~1name/show", "界面提示写法不正确"),
    ("unknown_situation_target", form({"name": {**NAME, "x-situation": "wealth"}}), {},
     "/schema/properties/name/x-situation", "未知的户情况绑定目标"),
    ("unknown_member_field",
     form({"members": {"type": "array", "title": "成员", "x-members": True,
                       "items": {"type": "object", "properties": {"name": {**NAME, "x-member": "nickname"}}}}}),
     {}, "/schema/properties/members/items/properties/name/x-member", "未知的成员字段"),
    ("member_field_outside_member_rows", form({"name": {**NAME, "x-member": "name"}}), {},
     "/schema/properties/name/x-member", "不在成员列表"),
    ("unknown_member_tag",
     form({"members": {"type": "array", "title": "成员", "x-members": True, "items": {"type": "object", "properties": {
         "rich": {"type": "boolean", "title": "富裕", "x-member-tag": "rich"}}}}}),
     {}, "/schema/properties/members/items/properties/rich/x-member-tag", "未知的成员标签"),
    ("need_item_not_in_catalogue",
     form({"needs": {"type": "array", "title": "需求", "x-needs": True, "items": {"type": "object", "properties": {
         "item": {"title": "服务项目", "enum": ["elderly.home_visit", "elderly.massage"], "x-need": "item"}}}}}),
     {}, "/schema/properties/needs/items/properties/item/x-need", "服务项目清单中没有「elderly.massage」"),
    ("need_flag_not_in_catalogue", form({"help": {"type": "boolean", "title": "要帮忙吗", "x-need-item": "moon.trip"}}), {},
     "/schema/properties/help/x-need-item", "服务项目清单中没有"),
    ("unknown_binding_keyword", form({"name": {**NAME, "x-household": "head"}}), {},
     "/schema/properties/name/x-household", "未知的绑定关键字"),
    ("binding_not_on_a_question", form(**{"x-situation": "health"}), {}, "/schema/x-situation", "只能写在题目上"),
    ("two_questions_one_target",
     form({"a": {**NAME, "x-situation": "phone"}, "b": {**NAME, "title": "电话", "x-situation": "phone"}}), {},
     "/schema/properties/b/x-situation", "已由「户主姓名」使用"),
    ("too_deeply_nested_questions", deep(13), {}, "/schema" + "/properties/x" * 13, "嵌套超过 12 层"),
    ("too_deeply_nested_json", form(**{"$defs": {"d": nested_lists(100)}}), {}, "/schema/$defs/d" + "/0" * 63, "嵌套层数超过 64 层"),
    ("too_many_questions", form({f"q{i}": {"type": "string", "title": f"题{i}"} for i in range(2001)}), {}, "/schema", "题目过多"),
    ("too_big", form({"name": {**NAME, "description": "很长" * 300_000}}), {}, "", "过大"),
]


@pytest.mark.parametrize("case, schema, ui, pointer, words", BAD_DEFINITIONS, ids=[c[0] for c in BAD_DEFINITIONS])
def test_bad_definition_is_refused_with_a_pointer_to_the_culprit(case, schema, ui, pointer, words):
    errors = check_definition(schema, ui, catalogue_items={"elderly.home_visit"})
    assert any(e.pointer == pointer and words in e.detail for e in errors), errors


GOOD_DEFINITIONS = [
    ("minimal", form(), {}),
    ("choice_without_label_shows_its_value", form({"sex": {"title": "性别", "enum": ["男", "女"]}}), {"questions": {"/sex": {"widget": "radio"}}}),
    ("labels_as_one_of", form({"sex": {"title": "性别", "oneOf": [{"const": "m", "title": "男"}, {"const": "f"}]}}), {}),
    ("property_called_x_something", form({"x-remark": {"type": "string", "title": "备注"}}), {}),
    ("title_beside_ref", form({"sex": {"$ref": "#/$defs/sex", "title": "性别"}}, **{"$defs": {"sex": {"enum": ["m", "f"]}}}), {}),
    ("recursive_definition",
     form({"tree": {"$ref": "#/$defs/node", "title": "树"}},
          **{"$defs": {"node": {"type": "object", "properties": {"label": {"type": "string", "title": "名"},
                                                                    "kids": {"type": "array", "title": "下级", "items": {"$ref": "#/$defs/node"}}}}}}),
     {}),
    ("needs_unchecked_without_catalogue",
     form({"help": {"type": "boolean", "title": "要帮忙吗", "x-need-item": "anything.goes"}}), {}),
]


@pytest.mark.parametrize("case, schema, ui", GOOD_DEFINITIONS, ids=[c[0] for c in GOOD_DEFINITIONS])
def test_good_definition_passes(case, schema, ui):
    catalogue = {"elderly.home_visit"} if case != "needs_unchecked_without_catalogue" else None
    assert check_definition(schema, ui, catalogue_items=catalogue) == []
    compile_form(schema, ui)


def test_compile_form_refuses_what_cannot_compile():
    with pytest.raises(FormDefinitionError) as caught:
        compile_form(form({"name": {"$ref": "https://example.com/x.json", "title": "姓名"}}), {})
    assert caught.value.errors[0].pointer == "/schema"
