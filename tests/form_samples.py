"""Realistic answers for the built-in forms, and a maker of valid resident ID numbers."""

from __future__ import annotations

import copy

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(region: str = "430102", born: str = "19580312", serial: str = "123") -> str:
    """A resident ID number with a correct GB 11643 check character."""
    body = region + born + serial
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


PHOTO = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
PHOTO2 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

ECONOMIC_SURVEY = {
    "assistance_type": "subsistence_allowance",
    "survey_type": "new",
    "survey_date": "2025-03-18",
    "head_name": "李桂兰",
    "head_id_number": id_number("430102", "19580312", "124"),
    "phone": "13807312456",
    "address": "凤凰社区 3 组 12 号",
    "household_size": 4,
    "housing": "own",
    "housing_area": 86.5,
    "members": [
        {"id": "5b0c5a64-1f7e-4c53-9a51-0d3c8f1a2b10", "name": "李桂兰", "relation": "self", "gender": "female",
         "id_number": id_number("430102", "19580312", "124"), "birth_date": "1958-03-12", "health": "chronic",
         "work_status": "farming", "monthly_income": 350},
        {"name": "王建国", "relation": "spouse", "gender": "male", "id_number": id_number("430102", "19550807", "131"),
         "birth_date": "1955-08-07", "health": "disabled", "disability_level": "2", "work_status": "unable",
         "monthly_income": 0},
        {"name": "王小红", "relation": "grandchild", "gender": "female",
         "id_number": id_number("430102", "20120415", "062"), "birth_date": "2012-04-15", "health": "healthy",
         "work_status": "student", "school": "凤凰小学", "monthly_income": 0},
        {"name": "王小军", "relation": "grandchild", "gender": "male",
         "id_number": id_number("430102", "20150921", "071"), "birth_date": "2015-09-21", "health": "healthy",
         "work_status": "student", "school": "凤凰小学", "monthly_income": 0},
    ],
    "income": {"wage": 0, "business": 4200, "property": 0, "transfer": 2760, "family_support": 1200, "other": 0,
               "main_source": "farming", "per_capita_monthly": 170},
    "assets": {"deposits": 3000, "securities": 0, "has_vehicle": True, "vehicle_value": 2500,
               "real_estate_count": 1, "has_business": False, "land_area": 2.5, "livestock_value": 1800},
    "spending": {"medical": 6800, "education": 1200, "rent": 0, "other": 600, "medical_insured": True},
    "poverty_reasons": ["illness", "disability", "lack_labour"],
    "bank_name": "农村商业银行",
    "bank_account": "6217995500012345678",
    "house_photos": [PHOTO, PHOTO2],
    "worker_opinion": "eligible",
    "needs_application_help": True,
    "applicant_signature": PHOTO,
}


def sample(name: str) -> dict:
    return copy.deepcopy(globals()[name.upper()])


HOME_VISIT = {
    "visit_type": "routine",
    "visit_mode": "onsite",
    "visited_at": "2025-03-18T09:42:10+08:00",
    "location": {"latitude": 28.1941, "longitude": 112.9823, "accuracy": 12.5},
    "door_photo": PHOTO,
    "photos": [PHOTO, PHOTO2],
    "met_person": "张秀英",
    "met_relation": "self",
    "living_condition": "hazard",
    "hazards": ["electric", "fall"],
    "health": "fair",
    "care": "neighbours",
    "mood": "low",
    "observations": "老人独居，屋内电线老化裸露，卫生间无扶手，近期膝盖疼痛行走不便，情绪有些低落。",
    "services_given": "讲解临时救助政策，帮助整理药品。",
    "has_needs": True,
    "needs": [
        {"item": "elderly.safety_check", "urgency": "high", "description": "请电工上门检查线路并加装卫生间扶手"},
        {"item": "elderly.emotional_comfort", "urgency": "normal"},
    ],
    "follow_up": True,
    "next_visit_date": "2025-04-01",
}

ELDERLY_LEDGER = {
    "elders": [
        {"id": "0d5d6a1e-7c1b-4f3a-9d0e-2f4b6a8c1e33", "name": "张秀英", "gender": "female",
         "id_number": id_number("430121", "19400605", "046"), "birth_date": "1940-06-05", "phone": "13974125803",
         "tags": ["elderly", "living_alone", "low_income"]},
    ],
    "income_source": "pension",
    "monthly_income": 1350,
    "family_structure": "living_alone",
    "children_contact": "monthly",
    "health": "partial",
    "chronic_diseases": ["hypertension", "arthritis"],
    "care": "relatives",
    "carer_name": "刘春花",
    "carer_phone": "15116284590",
    "risk_level": "high",
    "visit_frequency": "weekly",
    "services_needed": ["elderly.home_visit", "elderly.meal_shopping"],
}

CHILD_FILE = {
    "children": [
        {"name": "陈思雨", "gender": "female", "id_number": id_number("431224", "20140902", "028"),
         "birth_date": "2014-09-02", "tags": ["left_behind"], "study_status": "in_school",
         "school": "三多亭小学", "grade": "五年级"},
        {"name": "陈浩然", "gender": "male", "id_number": id_number("431224", "20170411", "015"),
         "birth_date": "2017-04-11", "tags": ["left_behind", "disability"], "disability_type": "hearing",
         "study_status": "special_school", "school": "县特殊教育学校", "grade": "二年级"},
    ],
    "father_status": "migrant",
    "father_work_place": "广东省东莞市",
    "mother_status": "missing",
    "guardianship": "grandparents",
    "guardian": {"name": "陈德福", "relation": "grandparent", "phone": "13787065421",
                 "id_number": id_number("431224", "19560118", "037"), "able": True},
    "family_structure": "skipped_generation",
    "allowances": ["disability_subsidy"],
    "safety_risks": ["drowning", "online"],
    "psychological": "withdrawn",
    "services_needed": ["child.after_school", "child.counselling"],
    "photos": [PHOTO],
}

DISABILITY_LEDGER = {
    "persons": [
        {"name": "赵志强", "gender": "male", "id_number": id_number("430103", "19820720", "051"),
         "phone": "18692037415", "disability_type": "mental", "disability_level": 2, "has_certificate": True,
         "certificate_number": id_number("430103", "19820720", "051") + "62", "severe_mental": True,
         "medication": "irregular", "guardian": "赵母"},
    ],
    "rehabilitation": "needed",
    "benefits": ["living_subsidy", "care_subsidy"],
    "care": "family",
    "risk_level": "1",
    "counselling": True,
    "needs_rehabilitation": True,
}

NEEDS_SURVEY = {
    "respondent": "周建华",
    "phone": "13548716320",
    "survey_date": "2025-03-20",
    "needs": [
        {"item": "relocation.job_guidance", "urgency": "normal", "for_member": "周建华"},
        {"item": "child.after_school", "urgency": "high", "description": "孩子放学后无人看护", "for_member": "周小宇"},
        {"item": "assistance.crisis_intervention", "urgency": "urgent", "description": "妻子突发重病住院，家中无收入"},
    ],
    "has_other_need": False,
    "preferred_time": "weekend",
    "willing_to_volunteer": True,
    "volunteer_skills": ["repair"],
    "satisfaction": 4,
}
