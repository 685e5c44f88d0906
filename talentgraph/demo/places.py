"""The fixed skeleton of the demo community: residential areas, venues, groups, name parts for
enterprises and projects. Coordinates are GCJ-02, the way a Chinese map app reports them, inside
lat 31.215–31.235 / lon 121.545–121.575.

An international community's registers carry English names beside the Chinese ones (bilingual signage,
the foreign-residents station's materials): every area, building, venue, group, party organisation and
project has one here (``en`` fields, ``PARTS_EN`` for the name parts), written to the registers' 英文名称
column and ingested as ``name_en``; English documents name them so (``documents.py``).

The community's public places that the twin-city map shows carry their real names and the figures
the public record gives (issue 9): the Shanghai Library East (上海图书馆东馆, opened 2022, 合欢路300号),
Thumb Plaza (大拇指广场, about 170 parking spaces shared with a residents' committee), the
Chinese-language corridor (汉语廊) and the foreign-residents service station (境外人员服务站, opened
2012, the first in Shanghai). Where the record is silent (their exact coordinates, most addresses,
hours, capacities) a value is left empty or is plausible, not surveyed. Everything else, and every
resident, is invented.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResidentialArea:
    key: str
    name: str
    lon: float  # GCJ-02 centre
    lat: float
    buildings: int
    built: int  # year the estate was finished (move-in dates start here)
    road: str
    en: str  # English name (bilingual signage, the foreign-residents station's materials)


# Half-size of a residential area's outline (degrees, GCJ-02): rectangles this size around the
# centres below do not overlap (tests/unit/test_demo_generator.py checks it); buildings are laid out
# on a grid inside them (generator._buildings).
AREA_HALF_LON = 0.0020
AREA_HALF_LAT = 0.0017

# key, name, lon, lat (GCJ-02), address, English name
SUBDISTRICT = ("huamu", "花木街道", 121.5530, 31.2150, "浦东新区花木街道", "Huamu Subdistrict")
COMMUNITY = ("lianyang", "联洋社区", 121.5600, 31.2250, "浦东新区花木街道联洋社区", "Lianyang Community")

RESIDENTIAL_AREAS: tuple[ResidentialArea, ...] = (
    ResidentialArea("RA01", "联洋新苑", 121.5492, 31.2318, 22, 2001, "长柳路", "Lianyang Xinyuan"),
    ResidentialArea("RA02", "仁恒河滨城", 121.5528, 31.2205, 18, 2003, "樱花路", "Yanlord Riverside City"),
    ResidentialArea("RA03", "联洋花园", 121.5575, 31.2285, 20, 2000, "芳甸路", "Lianyang Garden"),
    ResidentialArea("RA04", "海桐苑", 121.5618, 31.2332, 16, 2004, "海桐路", "Haitong Court"),
    ResidentialArea("RA05", "樱花苑", 121.5655, 31.2241, 15, 2002, "樱花路", "Yinghua Court"),
    ResidentialArea("RA06", "锦绣华庭", 121.5702, 31.2196, 19, 2005, "锦绣路", "Jinxiu Huating"),
    ResidentialArea("RA07", "香梅花园", 121.5689, 31.2309, 17, 2001, "长柳路", "Xiangmei Garden"),
    ResidentialArea("RA08", "芳华苑", 121.5531, 31.2262, 18, 2006, "芳甸路", "Fanghua Court"),
    ResidentialArea("RA09", "玉兰香苑", 121.5618, 31.2183, 15, 2008, "玉兰路", "Yulan Xiangyuan"),
)


@dataclass(frozen=True)
class VenueSpec:
    key: str
    name: str
    kind: str  # venue_kinds term id
    address: str
    lon: float
    lat: float
    capacity: int | None  # None: the public record gives no figure
    parking: int | None
    hours: str | None
    description: str
    area: str  # Area key the venue is located in
    en: str  # English name (bilingual signage)


VENUES: tuple[VenueSpec, ...] = (
    VenueSpec("V01", "联洋社区党群服务中心", "party_service_centre", "长柳路58号", 121.5596, 31.2256, 300, 40,
              "周一至周日 8:30-20:00", "社区党委办公、党员活动、议事协商与便民服务的综合阵地。", "lianyang", "Lianyang Party-Masses Service Centre"),
    VenueSpec("V02", "联洋社区境外人员服务站", "foreign_service_station", "樱花路868号一楼", 121.5611, 31.2240, 60,
              None, "周一至周五 9:00-17:00",
              "2012年设立，上海首个社区境外人员服务站：居住登记、政策咨询、双语服务与融入活动。", "lianyang", "Lianyang Foreign Residents Service Station"),
    VenueSpec("V03", "上海图书馆东馆", "library_branch", "合欢路300号", 121.5562, 31.2196, None, None,
              None, "上海图书馆东馆，2022年开馆，位于浦东新区合欢路300号。", "huamu", "Shanghai Library East"),
    VenueSpec("V04", "大拇指广场", "plaza", "芳甸路199弄", 121.5622, 31.2262, None, 170,
              "全天开放", "联洋社区的商业广场，约170个停车位与居委会共享。", "lianyang", "Thumb Plaza"),
    VenueSpec("V05", "汉语廊", "language_corner", "樱花路868号二楼", 121.5612, 31.2241, 40, None,
              "每周六 14:00-16:00", "中外居民学习汉语、交流语言与文化的长廊。", "lianyang", "Chinese Language Corridor"),
    VenueSpec("V06", "联洋社区文化活动中心", "activity_centre", "长柳路100号", 121.5588, 31.2249, 500, 60,
              "周一至周日 8:00-21:00", "排练厅、书画室、多功能厅，文体团队活动基地。", "lianyang", "Lianyang Cultural Activity Centre"),
    VenueSpec("V07", "联洋睦邻中心", "activity_centre", "海桐路150号", 121.5630, 31.2320, 150, 20,
              "周一至周日 8:30-20:00", "为老服务、托育与邻里活动的睦邻空间。", "RA04", "Lianyang Neighbourhood Centre"),
    VenueSpec("V08", "联洋社区卫生服务站", "health_station", "玉兰路66号", 121.5612, 31.2190, 80, 10,
              "周一至周六 8:00-17:00", "家庭医生签约、慢病随访与健康讲座。", "RA09", "Lianyang Community Health Station"),
    VenueSpec("V09", "联洋体育公园", "sports_facility", "锦绣路1888号", 121.5715, 31.2205, 1000, 120,
              "6:00-22:00", "篮球场、网球场、健身步道，太极拳队晨练场地。", "RA06", "Lianyang Sports Park"),
    VenueSpec("V10", "仁恒河滨城会所多功能厅", "activity_centre", "樱花路500号", 121.5531, 31.2210, 120, None,
              "预约开放", "小区会所多功能厅，居民议事与讲座。", "RA02", "Yanlord Riverside City Clubhouse Hall"),
    VenueSpec("V11", "联洋新苑居民活动室", "activity_centre", "长柳路200弄", 121.5495, 31.2320, 60, None,
              "周一至周五 9:00-17:00", "居民区活动室。", "RA01", "Lianyang Xinyuan Residents Activity Room"),
    VenueSpec("V12", "联洋社区法律服务工作室", "party_service_centre", "长柳路58号三楼", 121.5597, 31.2257, 20,
              None, "每周三 13:30-16:30", "律师志愿者轮值，提供免费法律咨询（中、英、俄语）。", "lianyang",
              "Lianyang Community Legal Service Studio"),
)

# Group key, name, kind (group_kinds id), founded, parent key, description, English name.
GROUPS: tuple[tuple[str, str, str, int, str, str, str], ...] = (
    ("G001", "联洋社区志愿者总队", "volunteer_corps", 2008, "", "社区志愿服务的统筹队伍，下设各居民区分队和专业分队。",
     "Lianyang Community Volunteer Corps"),
    ("G002", "法律服务志愿分队", "volunteer_branch", 2012, "G001", "律师、法务志愿者提供法律咨询和调解。", "Legal Service Volunteer Team"),
    ("G003", "医疗健康志愿分队", "volunteer_branch", 2010, "G001", "医生、护士志愿者开展义诊和健康讲座。", "Medical Volunteer Team"),
    ("G004", "翻译志愿分队", "volunteer_branch", 2014, "G001", "多语种翻译志愿者服务境外居民。", "Translation Volunteer Team"),
    ("G005", "助老志愿分队", "volunteer_branch", 2009, "G001", "独居老人结对、助餐送餐、陪同就医。", "Elderly Care Volunteer Team"),
    ("G006", "平安巡逻志愿分队", "volunteer_branch", 2011, "G001", "楼道巡查、消防安全和防诈宣传。", "Safety Patrol Volunteer Team"),
    ("G007", "垃圾分类志愿分队", "volunteer_branch", 2019, "G001", "垃圾分类定时定点值守与宣传。", "Waste Sorting Volunteer Team"),
    ("G008", "青少年志愿分队", "volunteer_branch", 2016, "G001", "中学生寒暑假社区实践。", "Youth Volunteer Team"),
    ("G009", "联洋洋志愿者服务队", "foreign_volunteer_team", 2015, "G001",
     "Foreign residents volunteering in the community: language exchange, international festivals, translation.",
     "Lianyang Yang Volunteers"),
    ("G010", "联洋社区合唱团", "culture_team", 2006, "", "每周二排练，参加区级合唱比赛。", "Lianyang Community Choir"),
    ("G011", "联洋太极拳队", "culture_team", 2004, "", "每天清晨在体育公园晨练，传授杨式太极拳。", "Lianyang Tai Chi Club"),
    ("G012", "联洋书法队", "culture_team", 2007, "", "软笔、硬笔书法交流，春节写春联送邻里。", "Lianyang Calligraphy Club"),
    ("G013", "联洋舞蹈队", "culture_team", 2009, "", "广场舞与民族舞排练。", "Lianyang Dance Team"),
    ("G014", "京剧票友社", "culture_team", 2010, "", "京剧清唱与折子戏排演。", "Peking Opera Club"),
    ("G015", "沪剧沙龙", "culture_team", 2012, "", "沪剧爱好者交流，传承海派文化。", "Shanghai Opera Salon"),
    ("G016", "联洋摄影队", "culture_team", 2011, "", "社区风貌拍摄与影展。", "Lianyang Photography Club"),
    ("G017", "乒乓球队", "culture_team", 2005, "", "每周三、六活动，组织楼组联赛。", "Table Tennis Team"),
    ("G018", "编织社", "culture_team", 2013, "", "编织爱心围巾送给独居老人。", "Knitting Club"),
    ("G019", "国画班", "culture_team", 2014, "", "山水花鸟国画学习。", "Chinese Painting Class"),
    ("G020", "腰鼓队", "culture_team", 2008, "", "节庆演出。", "Waist Drum Team"),
    ("G021", "模特队", "culture_team", 2015, "", "旗袍秀与时装表演。", "Lianyang Catwalk Team"),
    ("G022", "葫芦丝乐队", "culture_team", 2016, "", "葫芦丝、巴乌合奏。", "Hulusi Ensemble"),
)

# Volunteer branch by skill root: a volunteer with a skill under the root serves in that branch.
VOLUNTEER_BRANCHES: dict[str, str] = {
    "law": "G002", "medicine": "G003", "nursing": "G003", "translation": "G004", "interpretation": "G004",
    "elderly_care": "G005", "safety": "G006", "environment": "G007",
}

# Trade names (字号) with pinyin, for enterprise names; combined with an industry noun below.
TRADE_NAMES: tuple[tuple[str, str], ...] = (
    ("联洋", "Lianyang"), ("锦绣", "Jinxiu"), ("花木", "Huamu"), ("樱桃", "Yingtao"), ("海桐", "Haitong"),
    ("鑫源", "Xinyuan"), ("恒达", "Hengda"), ("瑞丰", "Ruifeng"), ("星辰", "Xingchen"), ("博远", "Boyuan"),
    ("启明", "Qiming"), ("嘉禾", "Jiahe"), ("华信", "Huaxin"), ("泰和", "Taihe"), ("明德", "Mingde"),
    ("润泽", "Runze"), ("睿思", "Ruisi"), ("凯旋", "Kaixuan"), ("卓越", "Zhuoyue"), ("同创", "Tongchuang"),
    ("致远", "Zhiyuan"), ("天成", "Tiancheng"), ("东方", "Dongfang"), ("浦江", "Pujiang"), ("新纪元", "Xinjiyuan"),
    ("智汇", "Zhihui"), ("优选", "Youxuan"), ("安康", "Ankang"), ("乐活", "Lehuo"), ("晨曦", "Chenxi"),
    ("蓝海", "Lanhai"), ("云帆", "Yunfan"), ("德信", "Dexin"), ("汇诚", "Huicheng"), ("立信", "Lixin"),
    ("和谐", "Hexie"), ("金桥", "Jinqiao"), ("长柳", "Changliu"), ("芳甸", "Fangdian"), ("梅园", "Meiyuan"),
)

# (industry id, name noun, English noun, employees range, weight). Ids are industries vocabulary terms,
# except "legal_services": law firms, filed under business services (租赁和商务服务业) but told apart here.
EnterpriseKind = tuple[str, str, str, tuple[int, int], int]
ENTERPRISE_KINDS: tuple[EnterpriseKind, ...] = (
    ("information_technology", "信息科技有限公司", "Information Technology Co., Ltd.", (8, 300), 30),
    ("business_services", "企业管理咨询有限公司", "Management Consulting Co., Ltd.", (3, 60), 18),
    ("hospitality", "餐饮管理有限公司", "Catering Management Co., Ltd.", (6, 80), 22),
    ("education", "教育培训有限公司", "Education & Training Co., Ltd.", (5, 120), 18),
    ("health_social_work", "门诊部有限公司", "Clinic Co., Ltd.", (10, 150), 10),
    ("wholesale_retail", "商贸有限公司", "Trading Co., Ltd.", (3, 50), 24),
    ("property_management", "物业管理有限公司", "Property Management Co., Ltd.", (20, 400), 10),
    ("finance", "投资管理有限公司", "Investment Management Co., Ltd.", (5, 90), 10),
    ("legal_services", "律师事务所", "Law Firm", (5, 120), 12),
    ("culture_sports", "文化传播有限公司", "Culture & Media Co., Ltd.", (3, 40), 12),
    ("construction", "建筑装饰工程有限公司", "Decoration Engineering Co., Ltd.", (10, 200), 8),
    ("transport", "物流有限公司", "Logistics Co., Ltd.", (10, 300), 6),
    ("resident_services", "家政服务有限公司", "Housekeeping Services Co., Ltd.", (10, 150), 10),
    ("manufacturing", "精密机械有限公司", "Precision Machinery Co., Ltd.", (30, 500), 4),
)

# Public institutions and state units that sign co-building agreements (named, not generated).
INSTITUTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("联洋小学", "Lianyang Primary School", "education", "public_institution"),
    ("联洋幼儿园", "Lianyang Kindergarten", "education", "public_institution"),
    ("花木社区卫生服务中心", "Huamu Community Health Centre", "health_social_work", "public_institution"),
    ("中国工商银行上海联洋支行", "ICBC Shanghai Lianyang Sub-branch", "finance", "state_owned"),
    ("上海浦东发展银行联洋支行", "SPD Bank Lianyang Sub-branch", "finance", "state_owned"),
    ("上海联洋国际学校", "Lianyang International School", "education", "social_organisation"),
)

# Project themes per six-category menu category id (the service menu a community publishes).
SIX_CATEGORY_THEMES: dict[str, tuple[str, ...]] = {
    "elderly": ("银龄助餐", "独居老人结对关爱", "老年人智能手机课堂", "长者生日会", "助浴上门", "认知症友好驿站",
                     "老伙伴互助", "适老化改造咨询"),
    "youth": ("四点半课堂", "暑期小当家", "亲子阅读会", "少儿科普实验室", "青少年志愿服务营", "家庭教育讲座"),
    "culture": ("邻里文化节", "书法进楼组", "社区合唱展演", "非遗手作坊", "国际邻里美食节", "周末电影放映"),
    "environment": ("垃圾分类楼道宣讲", "楼道微更新", "屋顶花园认养", "旧物交换集市", "阳台绿化大赛", "绿色出行日"),
    "safety_law": ("法律咨询进楼组", "防诈骗宣讲", "消防安全演练", "邻里纠纷调解", "电动车安全充电宣传",
                   "境外居民法律讲堂"),
    "mutual_aid": ("爱心维修队", "邻里互助时间银行", "便民理发", "家电义修", "磨刀配钥匙", "困难家庭帮扶"),
}
# Enterprise-menu offers (what a company can give the community) and theme-menu items, each with its
# project_categories id.
ENTERPRISE_THEMES: tuple[tuple[str, str], ...] = (
    ("爱心义诊进社区", "enterprise_pro_bono"), ("少儿编程公益课", "enterprise_volunteering"),
    ("职场英语沙龙", "enterprise_volunteering"), ("公益法律讲座", "enterprise_pro_bono"),
    ("理财防骗课堂", "enterprise_pro_bono"), ("爱心早餐", "enterprise_donation"), ("家居安全检查", "enterprise_volunteering"),
    ("企业开放日", "enterprise_volunteering"), ("助残就业见习", "enterprise_employment"),
    ("公益摄影课", "enterprise_volunteering"), ("健康饮食讲座", "enterprise_pro_bono"),
    ("心理健康沙龙", "enterprise_pro_bono"), ("旧衣回收", "enterprise_donation"), ("社区招聘会", "enterprise_employment"),
)
THEME_ITEMS: tuple[tuple[str, str], ...] = (
    ("党史学习主题月", "theme_party_building"), ("国际文化节", "theme_international"), ("中秋邻里节", "theme_international"),
    ("重阳敬老月", "theme_health"), ("汉语角交流会", "theme_international"), ("春节写春联送福", "theme_international"),
    ("垃圾分类主题月", "theme_low_carbon"), ("全民健身日", "theme_health"), ("国家安全教育日宣传", "theme_party_building"),
    ("学雷锋志愿服务月", "theme_party_building"), ("世界读书日", "theme_digital"), ("消防宣传月", "theme_health"),
    ("中外居民运动会", "theme_international"), ("端午包粽子", "theme_international"), ("元宵灯谜会", "theme_international"),
    ("七一党员志愿服务", "theme_party_building"), ("国庆升旗仪式", "theme_party_building"),
    ("家庭医生签约周", "theme_health"), ("智慧社区体验日", "theme_digital"), ("环境日清洁行动", "theme_low_carbon"),
    ("老年人智能手机普及周", "theme_digital"), ("儿童节游园会", "theme_international"), ("绿色出行周", "theme_low_carbon"),
    ("双拥共建活动", "theme_party_building"), ("老年人防诈骗宣传月", "theme_digital"),
)

# Temporary party branches: set up for a project, an event or a group of mobile members.
TEMPORARY_BRANCHES: tuple[str, ...] = (
    "联洋广场改造项目", "垃圾分类攻坚", "流动党员", "国际文化节筹备", "进博会服务保障", "防汛防台应急",
    "加装电梯协调", "美丽家园建设", "境外人员服务站", "睦邻中心运营", "老旧小区综合治理", "党员先锋岗",
    "志愿者总队", "文化团队", "平安巡逻", "楼道微更新", "非机动车治理", "适老化改造", "社区规划", "卫生城区复审",
    "全国文明城区创建", "爱心暑托班",
)

# Party organisations of units outside the community that co-build with it (name, level id, English name).
EXTERNAL_PARTY_ORGS: tuple[tuple[str, str, str], ...] = (
    ("联洋小学党支部", "branch", "Lianyang Primary School Party Branch"),
    ("花木社区卫生服务中心党总支", "general_branch", "Huamu Community Health Centre General Party Branch"),
    ("花木派出所党支部", "branch", "Huamu Police Station Party Branch"),
    ("浦东图书馆党总支", "general_branch", "Pudong Library General Party Branch"),
    ("花木税务所党支部", "branch", "Huamu Tax Office Party Branch"),
    ("联洋幼儿园党支部", "branch", "Lianyang Kindergarten Party Branch"),
    ("区市场监管局花木所党支部", "branch", "Huamu Market Supervision Office Party Branch"),
)

# English of the name parts above (project themes, temporary branches' purposes): the English names the
# registers give projects and party organisations are made of them (generator.py).
PARTS_EN: dict[str, str] = {
    # six-category menu
    "银龄助餐": "Silver Age Meal Service", "独居老人结对关爱": "Buddy Care for Seniors Living Alone",
    "老年人智能手机课堂": "Smartphone Class for Seniors", "长者生日会": "Seniors Birthday Party",
    "助浴上门": "Home Bathing Assistance", "认知症友好驿站": "Dementia-friendly Corner",
    "老伙伴互助": "Senior Buddies Mutual Aid", "适老化改造咨询": "Age-friendly Home Advice",
    "四点半课堂": "Half Past Four Classroom", "暑期小当家": "Summer Little Helpers",
    "亲子阅读会": "Parent-Child Reading Hour", "少儿科普实验室": "Kids Science Lab",
    "青少年志愿服务营": "Youth Volunteer Camp", "家庭教育讲座": "Parenting Lectures",
    "邻里文化节": "Neighbourhood Culture Festival", "书法进楼组": "Calligraphy in the Buildings",
    "社区合唱展演": "Community Choir Showcase", "非遗手作坊": "Intangible Heritage Crafts Workshop",
    "国际邻里美食节": "International Neighbours Food Festival", "周末电影放映": "Weekend Film Screenings",
    "垃圾分类楼道宣讲": "Stairwell Waste Sorting Talks", "楼道微更新": "Stairwell Micro-renewal",
    "屋顶花园认养": "Rooftop Garden Adoption", "旧物交换集市": "Swap Market",
    "阳台绿化大赛": "Balcony Greening Contest", "绿色出行日": "Green Travel Day",
    "法律咨询进楼组": "Legal Advice in the Buildings", "防诈骗宣讲": "Anti-fraud Talks",
    "消防安全演练": "Fire Safety Drill", "邻里纠纷调解": "Neighbour Dispute Mediation",
    "电动车安全充电宣传": "E-bike Safe Charging Campaign", "境外居民法律讲堂": "Law Lectures for Foreign Residents",
    "爱心维修队": "Caring Repairs", "邻里互助时间银行": "Neighbourhood Time Banking", "便民理发": "Free Haircuts",
    "家电义修": "Free Appliance Repair", "磨刀配钥匙": "Knife Sharpening and Key Cutting",
    "困难家庭帮扶": "Support for Families in Need",
    # enterprise menu
    "爱心义诊进社区": "Free Clinic in the Community", "少儿编程公益课": "Free Coding Class for Kids",
    "职场英语沙龙": "Business English Salon", "公益法律讲座": "Free Legal Lectures",
    "理财防骗课堂": "Money Sense and Anti-fraud Class", "爱心早餐": "Caring Breakfast",
    "家居安全检查": "Home Safety Checks", "企业开放日": "Company Open Day",
    "助残就业见习": "Disability Employment Internships", "公益摄影课": "Free Photography Class",
    "健康饮食讲座": "Healthy Eating Lectures", "心理健康沙龙": "Mental Health Salon",
    "旧衣回收": "Clothes Recycling", "社区招聘会": "Community Job Fair",
    # theme menu
    "党史学习主题月": "Party History Study Month", "国际文化节": "International Culture Festival",
    "中秋邻里节": "Mid-Autumn Neighbours Festival", "重阳敬老月": "Double Ninth Seniors Month",
    "汉语角交流会": "Chinese Corner Exchange", "春节写春联送福": "Spring Festival Couplets",
    "垃圾分类主题月": "Waste Sorting Month", "全民健身日": "National Fitness Day",
    "国家安全教育日宣传": "National Security Education Day", "学雷锋志愿服务月": "Lei Feng Volunteer Month",
    "世界读书日": "World Book Day", "消防宣传月": "Fire Safety Month",
    "中外居民运动会": "Chinese and Foreign Residents Games", "端午包粽子": "Dragon Boat Zongzi Making",
    "元宵灯谜会": "Lantern Festival Riddles", "七一党员志愿服务": "July First Party Member Volunteering",
    "国庆升旗仪式": "National Day Flag Raising", "家庭医生签约周": "Family Doctor Sign-up Week",
    "智慧社区体验日": "Smart Community Day", "环境日清洁行动": "Environment Day Clean-up",
    "老年人智能手机普及周": "Seniors Smartphone Week", "儿童节游园会": "Children's Day Fair",
    "绿色出行周": "Green Travel Week", "双拥共建活动": "Military-Civilian Partnership Day",
    "老年人防诈骗宣传月": "Seniors Anti-fraud Month",
    # temporary branches' purposes ("楼道微更新" above)
    "联洋广场改造项目": "Lianyang Plaza Renovation", "垃圾分类攻坚": "Waste Sorting Drive",
    "流动党员": "Mobile Party Members", "国际文化节筹备": "International Culture Festival Preparation",
    "进博会服务保障": "CIIE Service Support", "防汛防台应急": "Flood and Typhoon Emergency",
    "加装电梯协调": "Lift Installation Coordination", "美丽家园建设": "Beautiful Homes",
    "境外人员服务站": "Foreign Residents Service", "睦邻中心运营": "Neighbourhood Centre Operations",
    "老旧小区综合治理": "Old Estates Renewal", "党员先锋岗": "Party Member Vanguard Posts",
    "志愿者总队": "Volunteer Corps", "文化团队": "Culture Teams", "平安巡逻": "Safety Patrol",
    "非机动车治理": "Bicycle and E-bike Management", "适老化改造": "Age-friendly Renovation",
    "社区规划": "Community Planning", "卫生城区复审": "Healthy District Review",
    "全国文明城区创建": "Civilised District Campaign", "爱心暑托班": "Summer Day Care",
}

COMMITTEE_EN = "Lianyang Community Party Committee"
DIRECT_BRANCH_EN = "Lianyang Community Direct Party Branch"


def building_en(area: ResidentialArea, number: int) -> str:
    """A building's English name: "Lianyang Xinyuan Building 3" (联洋新苑3号楼)."""
    return f"{area.en} Building {number}"


def area_org_en(area: ResidentialArea, general: bool) -> str:
    """A residential area's party organisation in English: "Lianyang Xinyuan General Party Branch"."""
    return f"{area.en} {'General ' if general else ''}Party Branch"


def enterprise_branch_en(latin: str) -> str:
    """An enterprise's party branch in English: "Party Branch of Shanghai Jinxiu Trading Co., Ltd."."""
    return f"Party Branch of {latin}"
