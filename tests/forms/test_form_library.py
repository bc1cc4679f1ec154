"""The built-in library: every form passes its own checks, takes realistic answers, refuses wrong
ones in Chinese, and carries answers into the household file."""

from __future__ import annotations

import copy
import random
import re

import pytest

from forms import FieldError, binding_changes, builtin_forms, catalogue, check, check_definition, compile_form
from forms.library import catalogue_items
from form_samples import PHOTO, id_number, sample

FORMS = {f["slug"]: f for f in builtin_forms()}


@pytest.fixture(scope="module")
def compiled():
    return {slug: compile_form(f["schema"], f["ui"]) for slug, f in FORMS.items()}


def test_catalogue_has_six_categories_and_31_items_with_stable_ascii_codes():
    categories = catalogue()
    assert [c["name"] for c in categories] == ["社会救助", "养老服务", "儿童关爱", "社区治理", "社会事务", "易地搬迁群众社会融入"]
    codes = [i["code"] for c in categories for i in c["items"]]
    assert len(codes) == len(set(codes)) == 31
    assert all(re.fullmatch(r"[a-z]+\.[a-z_]+", code) and code.startswith(c["code"] + ".")
               for c in categories for code in (i["code"] for i in c["items"]))


def test_library_has_the_six_forms_in_chinese():
    assert {slug: f["title"] for slug, f in FORMS.items()} == {
        "home_visit": "入户走访记录", "economic_survey": "家计调查", "elderly_ledger": "老年人关爱台账",
        "child_file": "儿童一人一档", "disability_ledger": "残疾人与精神障碍台账", "needs_survey": "需求调研"}


@pytest.mark.parametrize("slug", list(FORMS))
def test_builtin_form_passes_check_definition(slug):
    assert check_definition(FORMS[slug]["schema"], FORMS[slug]["ui"], catalogue_items=catalogue_items()) == []


@pytest.mark.parametrize("slug", list(FORMS))
def test_builtin_form_uses_conditions_and_bindings(slug, compiled):
    form = compiled[slug]
    assert form.conditions
    changes = binding_changes(form, sample(slug))
    assert changes.situation or changes.members or changes.needs


@pytest.mark.parametrize("slug", list(FORMS))
def test_realistic_answers_pass(slug, compiled):
    assert check(compiled[slug], sample(slug)) == []


def edit(data: dict, pointer: str, value=None, delete=False) -> dict:
    data = copy.deepcopy(data)
    *path, last = [int(s) if s.isdigit() else s for s in pointer[1:].split("/")]
    node = data
    for segment in path:
        node = node[segment]
    if delete:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()
WRONG = [
    # (form, pointer, new value or DELETE, expected error)
    ("home_visit", "/visited_at", "2025-03-18 09:42", FieldError("/visited_at", "「走访时间」不是有效的日期时间")),
    ("home_visit", "/door_photo", DELETE, FieldError("/door_photo", "缺少必填项「门牌照片」")),
    ("home_visit", "/visit_mode", "phone", FieldError("/door_photo", "「门牌照片」在当前情况下不应填写")),
    ("home_visit", "/has_needs", False, FieldError("/needs", "「提出的需求」在当前情况下不应填写")),
    ("home_visit", "/needs/1/item", "elderly.massage", FieldError("/needs/1/item", "「服务项目」的选项无效")),
    ("home_visit", "/photos/0", "IMG_0001.jpg", FieldError("/photos/0", "「走访照片」不是有效的照片标识")),
    ("home_visit", "/location/latitude", 128.2, FieldError("/location/latitude", "「纬度」不能大于 90")),
    ("economic_survey", "/household_size", 0, FieldError("/household_size", "「家庭人口数」不能小于 1")),
    ("economic_survey", "/head_name", DELETE, FieldError("/head_name", "缺少必填项「户主姓名」")),
    ("economic_survey", "/members/1/id_number", id_number("430102", "19550807", "131")[:-1] + "0",
     FieldError("/members/1/id_number", "「身份证号」校验位错误")),
    ("economic_survey", "/members/0/birth_date", "1958-02-29", FieldError("/members/0/birth_date", "「出生日期」不是有效的日期")),
    ("economic_survey", "/members/0/gender", "女", FieldError("/members/0/gender", "「性别」的选项无效")),
    ("economic_survey", "/members/1/disability_level", DELETE, FieldError("/members/1/disability_level", "缺少必填项「残疾等级」")),
    ("economic_survey", "/members/0/disability_level", "1",
     FieldError("/members/0/disability_level", "「残疾等级」在当前情况下不应填写")),
    ("economic_survey", "/members/0/nickname", "桂兰", FieldError("/members/0/nickname", "「nickname」不是本表单的题目，不应填写")),
    ("economic_survey", "/assistance_type", "temporary", FieldError("/emergency_description", "缺少必填项「急难情况说明」")),
    ("economic_survey", "/income/wage", -100, FieldError("/income/wage", "「工资性收入」不能小于 0")),
    ("economic_survey", "/assets/has_vehicle", "有", FieldError("/assets/has_vehicle", "「是否有机动车」应为是或否")),
    ("economic_survey", "/phone", "0731-84567890", FieldError("/phone", "「联系电话」不是有效的手机号码")),
    ("elderly_ledger", "/elders/0/tags", ["elderly", "rich"], FieldError("/elders/0/tags/1", "「老人类别」的选项无效")),
    ("elderly_ledger", "/care", "self", FieldError("/carer_name", "「照料人姓名」在当前情况下不应填写")),
    ("elderly_ledger", "/visit_frequency", "monthly", FieldError("/visit_frequency", "「探访频次」只能选「每周一次」")),
    ("elderly_ledger", "/family_structure", "with_children", FieldError("/children_contact", "「子女联系频率」在当前情况下不应填写")),
    ("child_file", "/father_status", "at_home", FieldError("/father_work_place", "「父亲务工地」在当前情况下不应填写")),
    ("child_file", "/children/1/disability_type", DELETE, FieldError("/children/1/disability_type", "缺少必填项「残疾类别」")),
    ("child_file", "/guardianship", "none", FieldError("/guardian", "「监护人」在当前情况下不应填写")),
    ("child_file", "/guardian/phone", "1380731245", FieldError("/guardian/phone", "「监护人电话」不是有效的手机号码")),
    ("child_file", "/mother_status", "unknown", FieldError("/mother_status", "「母亲情况」的选项无效")),
    ("disability_ledger", "/persons/0/disability_level", 5, FieldError("/persons/0/disability_level", "「残疾等级」的选项无效")),
    ("disability_ledger", "/persons/0/certificate_number", "43010319820720051", FieldError(
        "/persons/0/certificate_number", "「残疾人证号」的填写格式不正确")),
    ("disability_ledger", "/persons/0/severe_mental", False, FieldError("/persons/0/medication", "「服药情况」在当前情况下不应填写")),
    ("disability_ledger", "/risk_level", "3", FieldError("/risk_report", "缺少必填项「风险情况报告」")),
    ("needs_survey", "/needs/2/description", DELETE, FieldError("/needs/2/description", "缺少必填项「需求描述」")),
    ("needs_survey", "/needs/0/urgency", "asap", FieldError("/needs/0/urgency", "「紧急程度」的选项无效")),
    ("needs_survey", "/willing_to_volunteer", False, FieldError("/volunteer_skills", "「可提供的志愿服务」在当前情况下不应填写")),
    ("needs_survey", "/satisfaction", 6, FieldError("/satisfaction", "「对社工站服务的满意度」的选项无效")),
    ("needs_survey", "/needs", [], FieldError("/needs", "「需求清单」至少要有 1 项")),
]


@pytest.mark.parametrize("slug, pointer, value, error", WRONG, ids=[f"{w[0]}{w[1]}" for w in WRONG])
def test_wrong_answer_to_builtin_form_is_refused_in_chinese(compiled, slug, pointer, value, error):
    data = edit(sample(slug), pointer, delete=True) if value is DELETE else edit(sample(slug), pointer, value)
    assert error in check(compiled[slug], data)


def test_economic_survey_changes_situation_members_and_needs(compiled):
    changes = binding_changes(compiled["economic_survey"], sample("economic_survey"))
    assert changes.situation["assistance_type"] == "subsistence_allowance"
    assert changes.situation["income_source"] == "farming"
    assert changes.members[0]["id"] == "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10"
    assert "id" not in changes.members[1]  # a new member: the file adds them
    assert changes.members[1]["disability_level"] == "2"
    assert changes.needs == [{"pointer": "/needs_application_help", "item": "assistance.application_help",
                              "urgency": "normal", "description": None, "member": None}]


def test_elderly_ledger_carries_the_four_ledger_answers(compiled):
    situation = binding_changes(compiled["elderly_ledger"], sample("elderly_ledger")).situation
    assert {k: situation[k] for k in ("income_source", "family_structure", "health", "care")} == {
        "income_source": "pension", "family_structure": "living_alone", "health": "partial", "care": "relatives"}


def test_member_tags_come_from_lists_and_yes_no_questions(compiled):
    children = binding_changes(compiled["child_file"], sample("child_file")).members
    assert [c["tags"] for c in children] == [["left_behind"], ["left_behind", "disability"]]
    persons = binding_changes(compiled["disability_ledger"], sample("disability_ledger")).members
    assert persons[0]["tags"] == ["disability", "mental_disorder"]


def test_needs_rows_carry_item_urgency_description_and_member(compiled):
    needs = binding_changes(compiled["needs_survey"], sample("needs_survey")).needs
    assert needs[2] == {"pointer": "/needs/2", "item": "assistance.crisis_intervention", "urgency": "urgent",
                        "description": "妻子突发重病住院，家中无收入", "member": None}
    assert needs[0]["member"] == "周建华"


def test_photo_pointers_of_the_home_visit(compiled):
    assert compiled["home_visit"].photo_pointers(sample("home_visit")) == [
        ("/door_photo", PHOTO), ("/photos/0", PHOTO), ("/photos/1", sample("home_visit")["photos"][1])]


def test_exports_get_titles_and_choice_labels(compiled):
    form = compiled["economic_survey"]
    assert form.question_titles()["/members/*/id_number"] == "身份证号"
    assert form.label_for("/members/*/gender", "female") == "女"
    assert form.label_for("/assistance_type", "medical") == "医疗救助"
    assert form.label_for("/survey_type", "unknown") == "unknown"


def _mutations(data, rng, pool):
    """Small random edits: drop a key, put in another question's answer, add a stray key."""
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        node = data
        while isinstance(node, dict) and node and rng.random() < 0.6:
            child = node[rng.choice(list(node))]
            if isinstance(child, list) and child and isinstance(child[0], dict):
                child = rng.choice(child)
            if not isinstance(child, dict):
                break
            node = child
        if not isinstance(node, dict) or not node:
            continue
        key = rng.choice(list(node))
        action = rng.random()
        if action < 0.4:
            del node[key]
        elif action < 0.8:
            node[key] = rng.choice(pool)
        else:
            node["stray"] = 1
    return data


@pytest.mark.parametrize("slug", list(FORMS))
def test_fast_pass_and_error_report_always_agree(slug, compiled):
    """The conditions compiled into JSON Schema and their Python twin must never disagree."""
    form, rng = compiled[slug], random.Random(slug)
    base = sample(slug)
    pool = [True, False, None, 0, 1, 2, "3", "other", "student", "temporary", "migrant", "none", "phone", [], [PHOTO],
            ["other"], ["disability"], "urgent", {}]
    for _ in range(300):
        data = _mutations(base, rng, pool)
        valid = form.is_valid(data)
        errors = form.report(data)
        generic = FieldError("", "提交内容不符合表单要求")
        if valid:
            assert errors == [generic], data
        else:
            assert generic not in errors and errors, data
