"""Word lists and weights the demo data draws from (pure data): surnames weighted by rank,
given names, names of minority nationalities, mobile prefixes, street, trade and place words."""

from __future__ import annotations

from itertools import accumulate

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾"
    "丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤"
)
SURNAME_LIST: tuple[str, ...] = (
    *SURNAMES,
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "慕容",
    "司徒",
)
SURNAME_CUMULATIVE = tuple(
    accumulate([max(2.0, 60.0 / (rank + 1) ** 0.8) for rank in range(len(SURNAMES))] + [0.3] * 8)
)
MALE_GIVEN = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林"
    "阳建国志文博晨轩睿泽子一然天佑家豪嘉成"
)
FEMALE_GIVEN = (
    "芳娜敏静丽艳娟霞秀玲桂英燕萍红婷雪琳晶欣悦怡涵萱梓诗雨思佳琪慧颖洁倩薇瑶璐妍梦婉兰淑珍月"
)
DOT_NAMES = {
    "05": (
        ("艾力", "买买提", "阿卜杜", "热合曼", "吐尔逊", "艾尼瓦尔", "库尔班", "依明", "麦麦提"),
        ("古丽", "阿依古丽", "帕提古丽", "迪丽努尔", "热依拉", "热娜", "阿孜古丽", "米热古丽"),
    ),
    "17": (
        ("叶尔兰", "努尔兰", "哈力木", "别克", "阿斯哈尔", "叶尔江", "巴合提"),
        ("阿依达娜", "加娜尔", "古丽娜尔", "阿依江", "哈丽达"),
    ),
}
TIBETAN = ("扎西", "次仁", "多吉", "卓玛", "央金", "格桑", "拉姆", "达瓦", "顿珠", "平措", "尼玛")
ETHNIC_WEIGHTS = {
    "01": 930,
    "03": 20,
    "11": 10,
    "02": 8,
    "08": 8,
    "05": 8,
    "04": 4,
    "10": 4,
    "17": 4,
    "06": 4,
}
ETHNICITIES = tuple(ETHNIC_WEIGHTS)
ETHNIC_CUMULATIVE = tuple(accumulate(ETHNIC_WEIGHTS.values()))
MOBILE_PREFIXES = tuple(
    f"1{p}"
    for p in "30 31 32 33 34 35 36 37 38 39 50 51 52 53 55 56 57 58 59 66 73 75 76 77 78 "
    "80 81 82 83 84 85 86 87 88 89 91 98 99".split()
)
STREETS = (
    "建设路 解放路 人民路 和平路 红星路 中山路 光明路 新华路 文化路 振兴路 青年路 府前街 "
    "南门街 东风路 胜利路 长江路 黄河路 育才路 友谊路 幸福街 太白路 运河路 鸿运路 丰收路"
).split()
TRADE_NAMES = (
    "鸿达 恒信 华泰 瑞丰 金宇 鑫源 宏图 永安 盛世 润泽 德信 同创 中联 嘉禾 博远 天成 信诚 "
    "汇通 裕隆 联创 泰和 致远 佳誉 新锐 长青 华康 正阳 百川 立信 安泰"
).split()
INDUSTRIES = (
    "科技 商贸 建筑工程 物流 食品 机械制造 电子 医药 餐饮管理 物业服务 教育咨询 农业发展 "
    "纺织 汽车销售 信息技术"
).split()
SHOPS = "便利店 超市 五金店 饭店 理发店 药店 服装店 水果店".split()
PUBLIC = "人民医院 实验小学 中学 社会福利院 疾病预防控制中心 图书馆 职业学校".split()
COMMUNITY_WORDS = (
    "翠园 花园 新村 和平 光明 东关 西关 南苑 北苑 幸福 阳光 康乐 文苑 锦绣 向阳 春华 金桥 "
    "育才 柳园 龙湾"
).split()
VILLAGE_SUFFIXES = "庄 屯 楼 集 店 营 洼 寨".split()
VILLAGE_SURNAMES = SURNAMES[:40]
