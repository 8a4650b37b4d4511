"""Vocabulary for the simulators: names, places, industries, departments.

Kept apart from the generators so that `people.py` reads as logic. Every string here is
GBK-encodable, since the 人社 simulator writes GBK files.
"""

from __future__ import annotations

import itertools

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
# (first characters, second characters) of two-character given names; a one-character
# given name is drawn from the second list.
GIVEN_MALE = (
    list("子浩宇俊志建文明国家永晓海立振思天嘉一博伟"),
    list("伟强军杰涛明超辉平鹏华飞斌宇浩凯健林峰磊成勇龙阳东波刚"),
)
GIVEN_FEMALE = (
    list("秀晓雅欣梦思佳雨丽美玉婷静嘉诗紫海春月金"),
    list("芳娜敏静丽艳娟霞英玲婷雪慧颖琳晶欣怡倩萍红燕丹琪洁蓉菲"),
)

# 字号 (trade names).
BRANDS = (
    "恒达 宏远 信安 瑞丰 金诚 华宇 鼎盛 新锐 永泰 嘉禾 汇通 中天 博远 聚力 天成 盛世 开元 东方 "
    "富邦 锦程 鸿运 合众 星辰 万和 隆昌 正阳 润泽 康达 安泰 明珠 兴业 华联 宏图 昌盛 众鑫 "
    "德信 卓越 腾飞 新意 佳禾 衢通 亿达 宝丰 弘毅 同创 海川 云帆 恒信 九州 四海"
).split()

# Industry (行业) → business-scope phrases (经营范围, 一般项目).
INDUSTRIES: dict[str, list[str]] = {
    "建材": ["建筑材料销售", "水泥制品销售", "五金产品批发", "砼结构构件销售"],
    "科技": [
        "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广",
        "软件开发",
        "信息系统集成服务",
    ],
    "贸易": ["日用百货销售", "服装服饰批发", "五金产品零售", "货物进出口", "针纺织品销售"],
    "电子": ["电子元器件制造", "电子产品销售", "电子专用材料研发"],
    "机械制造": ["通用设备制造（不含特种设备制造）", "机械零件、零部件加工", "机械设备销售"],
    "餐饮管理": ["餐饮管理", "食品销售（仅销售预包装食品）", "外卖递送服务"],
    "物业管理": ["物业管理", "停车场服务", "家政服务", "专业保洁、清洗、消毒服务"],
    "建筑工程": ["园林绿化工程施工", "土石方工程施工", "住宅水电安装维护服务", "建筑装饰材料销售"],
    "新材料科技": [
        "新材料技术研发",
        "合成材料制造（不含危险化学品）",
        "专用化学产品销售（不含危险化学品）",
    ],
    "农业开发": ["谷物种植", "蔬菜种植", "农产品的生产、销售、加工、运输、贮藏及其他相关服务"],
    "环保科技": ["环保咨询服务", "固体废物治理", "水污染治理", "大气污染治理"],
    "信息技术": ["信息技术咨询服务", "数据处理服务", "网络技术服务", "计算机软硬件及辅助设备零售"],
    "物流": [
        "普通货物仓储服务（不含危险化学品等需许可审批的项目）",
        "国内货物运输代理",
        "装卸搬运",
    ],
    "文化传媒": ["广告设计、代理", "组织文化艺术交流活动", "会议及展览服务", "摄像及视频制作服务"],
    "食品": ["食品销售（仅销售预包装食品）", "农副产品销售", "食用农产品批发"],
    "汽车服务": ["汽车零配件零售", "机动车修理和维护", "二手车经纪", "洗车服务"],
}
# Industry → permit items (许可项目) its scope names after the general ones, as a registrar
# writes them; the 双告知 routing rules route each to the department that follows it up.
LICENSED: dict[str, str] = {
    "餐饮管理": "餐饮服务；食品经营",
    "物流": "道路货物运输（不含危险货物）",
    "建筑工程": "建设工程施工；住宅室内装饰装修",
    "食品": "食品生产",
    "新材料科技": "危险化学品经营",
    "物业管理": "城市生活垃圾经营性服务",
}
# Industries whose companies sit in an industrial park rather than an office.
FACTORIES = frozenset({"建材", "电子", "机械制造", "新材料科技", "食品"})

COMPANY_KINDS = [
    "有限责任公司(自然人投资或控股)",
    "有限责任公司(自然人独资)",
    "有限责任公司(非自然人投资或控股的法人独资)",
    "股份有限公司(非上市、自然人投资或控股)",
    "个人独资企业",
    "有限责任公司(外商投资、非独资)",
]
COMPANY_KIND_WEIGHTS = list(itertools.accumulate((45, 25, 8, 4, 10, 2)))
CAPITALS_WAN = (3, 5, 10, 30, 50, 100, 100, 200, 300, 500, 500, 1000, 2000, 3000, 5000)
STATE_SECTORS = (
    "城市建设投资",
    "交通投资",
    "国有资产投资",
    "水利投资",
    "农业发展投资",
    "文化旅游发展",
)

# Region → (towns: 街道/乡镇, roads).
PLACES: dict[str, tuple[list[str], list[str]]] = {
    "330802": (
        "府山街道 荷花街道 花园街道 信安街道 双港街道 白云街道 衢化街道 航埠镇 石梁镇".split(),
        "县学街 新桥街 荷花中路 花园东大道 百汇路 白云中大道 劳动路 县西街 坊门街 新河沿".split(),
    ),
    "330803": (
        "樟潭街道 浮石街道 周家乡 廿里镇 高家镇 莲花镇".split(),
        "东迹大道 振兴东路 锦绣路 衢江路 文化路 四季路".split(),
    ),
    "130105": (
        "革新街街道 天苑街道 东焦街道 西苑街道 合作路街道 大谈街道 宁安街道 赵陵铺镇".split(),
        "中华北大街 民族路 合作路 友谊北大街 和平西路 新华路 泰华街 石清路".split(),
    ),
    "520500": (
        [
            "七星关区洪山街道",
            "七星关区市东街道",
            "七星关区三板桥街道",
            "七星关区碧阳街道",
            "七星关区观音桥街道",
        ],
        "洪山路 威宁路 招商大道 松山路 桂花路 麻园路 翠屏路".split(),
    ),
    "330106": (
        "西溪街道 文新街道 翠苑街道 古荡街道 蒋村街道 转塘街道".split(),
        "文三路 文一西路 天目山路 古墩路 紫金港路 学院路".split(),
    ),
    "440305": (
        "粤海街道 南头街道 南山街道 蛇口街道 西丽街道 桃源街道".split(),
        "科技南路 深南大道 南海大道 学府路 后海大道 创业路".split(),
    ),
    "510107": (
        "玉林街道 浆洗街街道 簇桥街道 火车南站街道 晋阳街道".split(),
        "人民南路 武侯祠大街 科华北路 高升桥路 玉林北路 晋阳路".split(),
    ),
}
GENERIC_PLACES = (
    "城东街道 城西街道 城南街道 城北街道 新城街道".split(),
    "人民路 解放路 建设路 中山路 文化路 新华路".split(),
)
ESTATES = "锦绣苑 阳光花园 新城家园 金色年华 桂花园 城市花园 滨江花苑 翠竹苑 幸福里 春江月".split()
PARKS = "工业功能区 经济开发区 高新技术产业园区 智造新城 绿色产业集聚区".split()

# Department kind → (name suffix under a district or county, suffix under a city).
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "fgw": ("发展和改革局", "发展和改革委员会"),
    "scjg": ("市场监督管理局", "市场监督管理局"),
    "zrzy": ("自然资源和规划局", "自然资源和规划局"),
    "bdc": ("不动产登记中心", "不动产登记中心"),
    "rs": ("社会保险事业管理中心", "社会保险事业管理中心"),
    "fy": ("人民法院", "中级人民法院"),
    "sw": ("税务局", "税务局"),
}
# Department kinds that are public institutions (事业单位, USCC category 12), not organs.
INSTITUTIONS = frozenset({"bdc", "rs"})
