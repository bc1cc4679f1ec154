"""What the demo's workers met in the field: five households of the demo district and the forms filled on their
visits, as a newcomer would see them in a station's first month.

Every person here is made up. The ID numbers carry a valid GB 11643 check character but the region code 430699,
which no county has, so none of them can be anyone's; the phone numbers are of one made-up block (139 0000 0xxx).
Ids are fixed (uuid5 of a name), so a second load names the same records and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

NAMESPACE = uuid.UUID("2f5e0c1a-8d3b-4f6e-9a7c-1b2d3e4f5a60")
FAKE_REGION = "430699"
_ID_CHECK = "10X98765432"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def demo_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def id_number(born: str, serial: str) -> str:
    """A resident ID number of nobody: the made-up region, a birth date YYYYMMDD, a serial, its check character."""
    body = FAKE_REGION + born + serial
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS)) % 11]


@dataclass(frozen=True)
class Photo:
    """A photo answer: one of the repo's sample images (server/ops/data/demo_photos), by file name."""

    file: str


@dataclass(frozen=True)
class DemoHousehold:
    key: str
    worker: str  # the username of the worker who registers and visits it
    community: str  # area code from demo_areas.csv
    address: str
    head: str
    phone: str
    location: tuple[float, float]

    @property
    def id(self) -> str:
        return demo_id(f"household/{self.key}")


@dataclass(frozen=True)
class DemoSubmission:
    key: str
    household: DemoHousehold
    form: str
    started_at: str
    finished_at: str
    data: dict
    location: tuple[float, float] | None = None  # where the phone was on the visit (none for a phone call)

    @property
    def id(self) -> str:
        return demo_id(f"submission/{self.key}")


ZHANG = DemoHousehold("zhang-xiuying", "worker", "430602001001", "白竹亭社区 3 组 12 号", "张秀英", "13900000101",
                      (29.37131, 113.12878))
CHEN = DemoHousehold("chen-defu", "worker", "430602001002", "凌云社区 7 组 5 号", "陈德福", "13900000102",
                     (29.36550, 113.13527))
LIU = DemoHousehold("liu-guoqing", "worker", "430602001002", "凌云社区 2 组 18 号", "刘国庆", "13900000103",
                    (29.36702, 113.13215))
LI = DemoHousehold("li-guilan", "worker2", "430602001003", "三多亭社区 5 栋 2 单元 101", "李桂兰", "13900000104",
                   (29.37806, 113.12190))
ZHAO = DemoHousehold("zhao-zhiqiang", "worker3", "430602002001", "楚江圩社区 12 栋 301", "周玉梅", "13900000105",
                     (29.35902, 113.11048))
HOUSEHOLDS = [ZHANG, CHEN, LIU, LI, ZHAO]


def member(key: str) -> str:
    return demo_id(f"member/{key}")


def _zhang() -> list[DemoSubmission]:
    first_visit = {
        "visit_type": "routine", "visit_mode": "onsite", "visited_at": "2025-03-18T09:38:00+08:00",
        "location": {"latitude": 29.37133, "longitude": 113.12876, "accuracy": 8.0},
        "door_photo": Photo("house_front.jpg"), "photos": [Photo("kitchen.jpg")],
        "met_person": "张秀英", "met_relation": "self",
        "living_condition": "hazard", "hazards": ["electric", "fall"], "health": "fair", "care": "neighbours",
        "mood": "low",
        "observations": "张奶奶 84 岁，老伴前年去世，儿子在深圳务工，一人独居。厨房电线老化裸露，灯泡直接吊在线上；"
                        "卫生间地面湿滑，没有扶手。近来膝盖疼，上下台阶吃力，聊天时几次说“一个人没意思”。",
        "services_given": "讲解高龄津贴和临时救助政策，帮助清理过期药品，留下社工站电话。",
        "has_needs": True,
        "needs": [
            {"item": "elderly.safety_check", "urgency": "high", "description": "请电工上门更换厨房老化线路，卫生间加装扶手"},
            {"item": "elderly.emotional_comfort", "urgency": "normal", "description": "每周电话问候一次"},
        ],
        "follow_up": True, "next_visit_date": "2025-04-01",
    }
    ledger = {
        "elders": [{"id": member("zhang-xiuying"), "name": "张秀英", "gender": "female",
                    "id_number": id_number("19410216", "022"), "birth_date": "1941-02-16", "phone": "13900000101",
                    "tags": ["elderly", "living_alone", "low_income"]}],
        "income_source": "pension", "monthly_income": 1280, "family_structure": "living_alone",
        "children_contact": "monthly", "health": "partial", "chronic_diseases": ["hypertension", "arthritis"],
        "care": "self", "risk_level": "high", "visit_frequency": "weekly",
        "services_needed": ["elderly.home_visit", "elderly.safety_check", "elderly.emotional_comfort"],
        "remarks": "儿子张建军在深圳务工，约每月来一次电话；邻居李阿姨有她家钥匙。",
    }
    follow_up = {
        "visit_type": "follow_up", "visit_mode": "phone", "visited_at": "2025-04-01T14:03:00+08:00",
        "met_person": "张秀英", "met_relation": "self",
        "living_condition": "average", "health": "fair", "care": "neighbours", "mood": "stable",
        "observations": "电话随访：社区电工 3 月 26 日已换好厨房线路，卫生间扶手也装上了。膝盖仍疼，已到社区卫生服务站开药；"
                        "邻居李阿姨每天过来看一眼。说话比上次有精神。",
        "services_given": "提醒按时服药，约定下周上门测血压。",
        "has_needs": True,
        "needs": [{"item": "elderly.vital_signs", "urgency": "normal", "description": "每两周上门测一次血压"}],
        "follow_up": True, "next_visit_date": "2025-04-08",
    }
    return [
        DemoSubmission("zhang-visit-1", ZHANG, "home_visit", "2025-03-18T09:30:00+08:00",
                       "2025-03-18T10:02:00+08:00", first_visit, (29.37133, 113.12876)),
        DemoSubmission("zhang-elderly-ledger", ZHANG, "elderly_ledger", "2025-03-18T10:03:00+08:00",
                       "2025-03-18T10:20:00+08:00", ledger, (29.37133, 113.12876)),
        DemoSubmission("zhang-visit-2", ZHANG, "home_visit", "2025-04-01T14:00:00+08:00",
                       "2025-04-01T14:12:00+08:00", follow_up),
    ]


def _chen() -> list[DemoSubmission]:
    visit = {
        "visit_type": "routine", "visit_mode": "onsite", "visited_at": "2025-03-20T15:08:00+08:00",
        "location": {"latitude": 29.36549, "longitude": 113.13529, "accuracy": 15.0},
        "door_photo": Photo("village_house.jpg"), "photos": [Photo("homework_desk.jpg")],
        "met_person": "陈德福", "met_relation": "family",
        "living_condition": "average", "health": "fair", "care": "family", "mood": "anxious",
        "observations": "父亲在广东东莞务工，母亲多年前离家后失联，两个孩子由 69 岁的爷爷陈德福照看。浩然有听力残疾，"
                        "助听器坏了两个月没修；思雨放学后常一个人去屋后塘边玩。爷爷有高血压，辅导作业力不从心。",
        "services_given": "讲解防溺水常识，登记助听器维修需求，介绍社区“四点半课堂”。",
        "has_needs": True,
        "needs": [
            {"item": "child.after_school", "urgency": "high", "description": "思雨放学后无人看护，希望参加四点半课堂"},
            {"item": "assistance.resource_linking", "urgency": "high", "description": "联系区残联维修或更换浩然的助听器"},
            {"item": "child.safety_education", "urgency": "normal", "description": "屋后有水塘，需要防溺水教育"},
        ],
        "follow_up": True, "next_visit_date": "2025-04-03",
    }
    child_file = {
        "children": [
            {"id": member("chen-siyu"), "name": "陈思雨", "gender": "female", "id_number": id_number("20140902", "028"),
             "birth_date": "2014-09-02", "tags": ["left_behind"], "study_status": "in_school", "school": "凌云小学",
             "grade": "五年级"},
            {"id": member("chen-haoran"), "name": "陈浩然", "gender": "male", "id_number": id_number("20170411", "015"),
             "birth_date": "2017-04-11", "tags": ["left_behind", "disability"], "disability_type": "hearing",
             "study_status": "special_school", "school": "巴陵区特殊教育学校", "grade": "二年级"},
        ],
        "father_status": "migrant", "father_work_place": "广东省东莞市", "mother_status": "missing",
        "guardianship": "grandparents",
        "guardian": {"name": "陈德福", "relation": "grandparent", "phone": "13900000102",
                     "id_number": id_number("19560118", "037"), "able": True},
        "family_structure": "skipped_generation", "allowances": ["disability_subsidy"],
        "safety_risks": ["drowning", "online"], "psychological": "withdrawn",
        "services_needed": ["child.after_school", "child.safety_education", "child.counselling"],
        "notes": "思雨较内向，提到妈妈时不说话；浩然戴助听器时能正常交流。父亲每月寄回 1500 元。",
    }
    return [
        DemoSubmission("chen-visit-1", CHEN, "home_visit", "2025-03-20T15:02:00+08:00", "2025-03-20T15:40:00+08:00",
                       visit, (29.36549, 113.13529)),
        DemoSubmission("chen-child-file", CHEN, "child_file", "2025-03-20T15:41:00+08:00",
                       "2025-03-20T16:05:00+08:00", child_file, (29.36549, 113.13529)),
    ]


def _liu() -> list[DemoSubmission]:
    ledger = {
        "elders": [
            {"id": member("liu-guoqing"), "name": "刘国庆", "gender": "male", "id_number": id_number("19490930", "013"),
             "birth_date": "1949-09-30", "phone": "13900000103", "tags": ["elderly", "empty_nest"]},
            {"id": member("wang-shufen"), "name": "王淑芬", "gender": "female",
             "id_number": id_number("19520305", "046"), "birth_date": "1952-03-05", "tags": ["elderly", "empty_nest"]},
        ],
        "income_source": "pension", "monthly_income": 3100, "family_structure": "couple", "children_contact": "weekly",
        "health": "independent", "chronic_diseases": ["diabetes"], "care": "spouse", "carer_name": "王淑芬",
        "carer_phone": "13900000106", "risk_level": "low", "visit_frequency": "monthly",
        "services_needed": ["elderly.meal_shopping"],
        "remarks": "两位老人退休职工，女儿在长沙，每周视频。刘爷爷糖尿病，饮食需要控制，想了解社区助餐点。",
    }
    return [DemoSubmission("liu-elderly-ledger", LIU, "elderly_ledger", "2025-03-21T09:30:00+08:00",
                           "2025-03-21T09:55:00+08:00", ledger, (29.36702, 113.13215))]


def _li() -> list[DemoSubmission]:
    head = {"id": member("li-guilan"), "name": "李桂兰", "relation": "self", "gender": "female",
            "id_number": id_number("19580312", "124"), "birth_date": "1958-03-12", "health": "chronic",
            "work_status": "farming", "monthly_income": 350}
    survey = {
        "assistance_type": "subsistence_allowance", "survey_type": "new", "survey_date": "2025-03-25",
        "head_name": "李桂兰", "head_id_number": head["id_number"], "phone": "13900000104",
        "address": "三多亭社区 5 栋 2 单元 101", "household_size": 4, "housing": "own", "housing_area": 56.0,
        "members": [
            head,
            {"id": member("wang-jianguo"), "name": "王建国", "relation": "spouse", "gender": "male",
             "id_number": id_number("19550807", "131"), "birth_date": "1955-08-07", "health": "disabled",
             "disability_level": "2", "work_status": "unable", "monthly_income": 0},
            {"id": member("wang-xiaohong"), "name": "王小红", "relation": "grandchild", "gender": "female",
             "id_number": id_number("20120415", "062"), "birth_date": "2012-04-15", "health": "healthy",
             "work_status": "student", "school": "三多亭小学", "monthly_income": 0},
            {"id": member("wang-xiaojun"), "name": "王小军", "relation": "grandchild", "gender": "male",
             "id_number": id_number("20150921", "071"), "birth_date": "2015-09-21", "health": "healthy",
             "work_status": "student", "school": "三多亭小学", "monthly_income": 0},
        ],
        "income": {"wage": 0, "business": 4200, "property": 0, "transfer": 2760, "family_support": 1200, "other": 0,
                   "main_source": "farming", "per_capita_monthly": 170},
        "assets": {"deposits": 3000, "securities": 0, "has_vehicle": False, "real_estate_count": 1,
                   "has_business": False, "land_area": 0.8, "livestock_value": 0},
        "spending": {"medical": 6800, "education": 1200, "rent": 0, "other": 600, "medical_insured": True},
        "poverty_reasons": ["illness", "disability", "lack_labour"],
        "house_photos": [Photo("old_house.jpg")], "applicant_signature": Photo("application.jpg"),
        "worker_opinion": "eligible", "needs_application_help": True,
    }
    return [DemoSubmission("li-economic-survey", LI, "economic_survey", "2025-03-25T10:00:00+08:00",
                           "2025-03-25T10:45:00+08:00", survey, (29.37806, 113.12190))]


def _zhao() -> list[DemoSubmission]:
    ledger = {
        "persons": [{"id": member("zhao-zhiqiang"), "name": "赵志强", "gender": "male",
                     "id_number": id_number("19820720", "051"), "disability_type": "mental", "disability_level": 2,
                     "has_certificate": True, "certificate_number": id_number("19820720", "051") + "62",
                     "severe_mental": True, "medication": "irregular", "guardian": "周玉梅（母亲）"}],
        "rehabilitation": "needed", "benefits": ["living_subsidy", "care_subsidy"], "care": "family",
        "risk_level": "1", "counselling": True, "needs_rehabilitation": True,
        "notes": "近一个月没有按时服药，夜里睡得差，偶尔自言自语，未出现冲动行为。母亲 68 岁，独自照看已很吃力。"
                 "已与社区卫生服务中心约好随访，下周陪同复诊。",
    }
    return [DemoSubmission("zhao-disability-ledger", ZHAO, "disability_ledger", "2025-03-27T14:30:00+08:00",
                           "2025-03-27T15:10:00+08:00", ledger, (29.35902, 113.11048))]


def submissions() -> list[DemoSubmission]:
    """In the order the visits happened, as the phones would send them."""
    every = _zhang() + _chen() + _liu() + _li() + _zhao()
    return sorted(every, key=lambda s: s.started_at)
