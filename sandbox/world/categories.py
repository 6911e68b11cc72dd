"""The sandbox's category tree and the attribute schema of every leaf (data, no I/O).

Three levels (a root category, a sub-category, a leaf), a few hundred leaves with the names a
1688 seller sees; offers may be published to leaves only. The ten categories the offer
generator uses (sandbox/world/catalog_gen.py) are leaves here with the same ids. Attribute ids
follow the generator's where it has them (3216 颜色, 450 尺码, 100017 型号, 7869 容量,
1627207 规格, 100000691 尺寸, 2176 品牌, 287 材质) and 1398 for 货号; the rest are the
sandbox's own.

Every leaf's schema comes from its root's *family*: the sale attributes (SKU dimensions,
``isSKUAttribute``) and the family's own attributes, plus attributes every leaf has (货号,
品牌, 是否进口 ...) and two cascading rules (``attributeLevelMapStr``):
- 是否进口 (1141) = 是 → 原产国/地区 (8243) becomes required;
- 件型 (100031) = 大件 and 是否跨境出口专供货源 (7002) = 是 → 主要下游平台 (182282223)
  becomes required (the shape of the record's example ``"100000691:46874>7108:21958":"8243"``).
"""

import hashlib
from dataclasses import dataclass, field
from functools import cache

# inputType codes of alibaba.category.attribute.get
TEXT, DROPDOWN, MULTI, RADIO, NUMBER, DATE = "0", "1", "2", "3", "-1", "5"
CARGO_NUMBER_ATTR = 1398

# fmt: off
# root: (id, family, {sub-category: [leaves; a leaf given as (id, name) keeps that id]})
TREE = {
    "女装": (10166, "apparel", {
        "T恤": [(1031910, "女式T恤"), "雪纺衫", "打底衫", "POLO衫", "吊带背心"],
        "裙装": [(1031918, "连衣裙"), "半身裙", "套装裙", "旗袍", "婚纱礼服"],
        "外套": ["风衣", "西装", "毛呢大衣", "羽绒服", "棉服", "牛仔外套"],
        "裤装": ["牛仔裤", "休闲裤", "打底裤", "阔腿裤", "运动裤"],
        "针织毛衫": ["针织开衫", "套头毛衣", "针织背心", "羊绒衫"],
        "内衣家居": ["文胸", "睡衣套装", "睡裙", "家居服", "塑身衣"],
    }),
    "男装": (10165, "apparel", {
        "上衣": [(1031929, "男式衬衫"), "男式T恤", "男式POLO衫", "卫衣", "夹克"],
        "裤子": ["男式牛仔裤", "男式休闲裤", "男式短裤", "西裤", "工装裤"],
        "外套": ["男式羽绒服", "男式风衣", "男式西服", "男式棉衣", "冲锋衣"],
        "针织": ["男式毛衣", "男式针织开衫", "男式羊毛衫"],
        "内衣": ["男式内裤", "男式背心", "男式睡衣", "保暖内衣"],
    }),
    "童装": (311, "apparel", {
        "儿童上衣": ["儿童T恤", "儿童卫衣", "儿童衬衫", "儿童毛衣"],
        "儿童套装": [(122588001, "儿童套装"), "亲子装", "儿童运动套装", "儿童家居服"],
        "儿童裤裙": ["儿童裤子", "儿童裙子", "儿童短裤", "儿童打底裤"],
        "婴儿服饰": ["婴儿连体衣", "婴儿套装", "婴儿帽", "口水巾"],
        "儿童外套": ["儿童羽绒服", "儿童棉服", "儿童风衣", "儿童马甲"],
    }),
    "鞋": (1038378, "shoes", {
        "女鞋": ["女式单鞋", "女式凉鞋", "女式靴子", "女式运动鞋", "女式拖鞋"],
        "男鞋": ["男式皮鞋", "男式休闲鞋", "男式运动鞋", "男式凉鞋", "男式拖鞋"],
        "童鞋": ["儿童运动鞋", "儿童凉鞋", "儿童雪地靴", "学步鞋"],
        "功能鞋": ["登山鞋", "雨鞋", "劳保鞋", "溯溪鞋"],
    }),
    "数码配件": (1501, "digital", {
        "手机配件": [(1046691, "手机壳"), "手机贴膜", "手机支架", "数据线", "充电器",
                     "移动电源"],
        "电脑配件": ["鼠标", "键盘", "鼠标垫", "USB集线器", "笔记本支架", "电脑包"],
        "影音": ["蓝牙耳机", "有线耳机", "蓝牙音箱", "麦克风"],
        "智能设备": ["智能手表", "智能手环", "自拍杆", "补光灯"],
    }),
    "厨房餐饮": (1043351, "kitchen", {
        "水具": [(121950004, "保温杯"), "玻璃杯", "塑料水杯", "马克杯", "运动水壶"],
        "餐具": ["碗", "盘碟", "筷子", "勺子", "餐具套装"],
        "厨具": ["炒锅", "汤锅", "砧板", "菜刀", "锅铲"],
        "储物": ["保鲜盒", "调料瓶", "米桶", "密封罐"],
        "烘焙": ["烘焙模具", "裱花袋", "打蛋器", "烤盘"],
    }),
    "家居日用": (15, "home", {
        "收纳整理": [(124208002, "收纳盒"), "收纳箱", "衣架", "挂钩", "压缩袋", "鞋盒"],
        "清洁用品": ["拖把", "扫把", "垃圾袋", "清洁刷", "抹布"],
        "浴室用品": ["毛巾", "浴巾", "浴帘", "牙刷架", "防滑垫"],
        "家居饰品": ["相框", "花瓶", "仿真花", "摆件", "挂画"],
        "雨具": ["雨伞", "雨衣", "晴雨伞"],
    }),
    "玩具": (1813, "toys", {
        "毛绒玩具": [(1037192, "毛绒玩具"), "公仔", "抱枕", "挂件玩偶"],
        "益智玩具": ["积木", "拼图", "魔方", "早教机"],
        "户外玩具": ["泡泡机", "水枪", "风筝", "滑板车"],
        "模型玩具": ["遥控车", "合金车模", "飞机模型", "手办"],
        "婴儿玩具": ["摇铃", "牙胶", "床铃", "爬行垫"],
    }),
    "箱包皮具": (1042954, "bags", {
        "背包": [(1042471, "双肩包"), "书包", "登山包", "电脑背包"],
        "女包": ["单肩包", "斜挎包", "手提包", "钱包", "化妆包"],
        "男包": ["男式公文包", "男式腰包", "男式胸包", "男式钱包"],
        "旅行箱包": ["拉杆箱", "旅行袋", "收纳包", "登机箱"],
    }),
    "家纺": (10213, "bedding", {
        "床品套件": [(50000436, "床上四件套"), "床单", "被套", "枕套", "床笠"],
        "被子枕芯": ["夏凉被", "羽绒被", "蚕丝被", "枕芯", "记忆枕"],
        "凉席蚊帐": ["凉席", "冰丝席", "蚊帐"],
        "布艺软饰": ["窗帘", "桌布", "沙发垫", "地毯", "靠垫"],
    }),
    "美妆个护": (66, "beauty", {
        "彩妆": ["口红", "眼影", "粉底液", "眉笔", "睫毛膏"],
        "护肤": ["面膜", "洗面奶", "爽肤水", "面霜", "防晒霜"],
        "美妆工具": ["化妆刷", "美妆蛋", "假睫毛", "化妆镜"],
        "个人护理": ["洗发水", "沐浴露", "牙膏", "护手霜"],
    }),
    "运动户外": (1043472, "sports", {
        "健身器材": ["瑜伽垫", "哑铃", "跳绳", "弹力带", "健腹轮"],
        "户外装备": ["帐篷", "睡袋", "户外椅", "野餐垫", "登山杖"],
        "球类": ["篮球", "足球", "羽毛球拍", "乒乓球拍"],
        "骑行": ["骑行手套", "自行车灯", "头盔", "车锁"],
    }),
    "宠物用品": (1043573, "home", {
        "宠物日用": ["宠物窝", "猫砂盆", "宠物碗", "宠物牵引绳"],
        "宠物玩具": ["逗猫棒", "狗咬胶", "宠物球"],
        "宠物服饰": ["宠物衣服", "宠物项圈", "宠物雨衣"],
    }),
    "办公文具": (67, "home", {
        "书写工具": ["中性笔", "铅笔", "马克笔", "钢笔", "荧光笔"],
        "本册纸品": ["笔记本", "便利贴", "活页本", "手账本"],
        "办公用品": ["文件夹", "订书机", "计算器", "笔筒", "剪刀"],
    }),
}
# fmt: on


def stable_id(*parts: str, low: int = 1_000_000, span: int = 9_000_000) -> int:
    digest = hashlib.sha1("/".join(parts).encode()).hexdigest()  # noqa: S324 (an id)
    return low + int(digest[:12], 16) % span


@dataclass(frozen=True)
class Node:
    category_id: int
    name: str
    level: int
    parent_id: int  # 0 for a root
    family: str
    child_ids: tuple[int, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return self.level == 3


@cache
def nodes() -> dict[int, Node]:
    """Every category by id; the pseudo root 0 carries the roots as children."""
    found: dict[int, Node] = {}
    roots = []
    for root_name, (root_id, family, subs) in TREE.items():
        sub_ids = []
        for sub_name, leaves in subs.items():
            sub_id = stable_id(root_name, sub_name, low=100_000_000, span=800_000_000)
            leaf_ids = []
            for leaf in leaves:
                leaf_id, leaf_name = (
                    leaf if isinstance(leaf, tuple) else (stable_id(sub_name, leaf), leaf)
                )
                found[leaf_id] = Node(leaf_id, leaf_name, 3, sub_id, family)
                leaf_ids.append(leaf_id)
            found[sub_id] = Node(sub_id, sub_name, 2, root_id, family, tuple(leaf_ids))
            sub_ids.append(sub_id)
        found[root_id] = Node(root_id, root_name, 1, 0, family, tuple(sub_ids))
        roots.append(root_id)
    found[0] = Node(0, "", 0, 0, "", tuple(roots))
    return found


def node(category_id: int) -> Node | None:
    return nodes().get(category_id)


def path_ids(category_id: int) -> list[int]:
    """parentIDs: the direct parent first, up to the root (0 not included)."""
    ids, current = [], nodes().get(category_id)
    while current is not None and current.parent_id:
        ids.append(current.parent_id)
        current = nodes().get(current.parent_id)
    return ids


def search(keyword: str) -> list[Node]:
    """Leaves whose name, or whose parents' names, contain the keyword (or a word of it)."""
    words = [w for w in keyword.split() if w] or [keyword]
    found = []
    for item in nodes().values():
        if not item.is_leaf:
            continue
        names = [item.name] + [nodes()[pid].name for pid in path_ids(item.category_id)]
        if any(word in name for word in words for name in names):
            found.append(item)
    return found


# --- attribute schemas ---------------------------------------------------------------------


@dataclass(frozen=True)
class Attribute:
    attr_id: int
    name: str
    input_type: str
    required: bool = False
    sku: bool = False
    values: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    field_type: str = "string"
    ids: dict = field(default_factory=dict, compare=False, hash=False)  # value name -> id

    def value_id(self, name: str) -> int | None:
        return self.ids.get(name)

    def value_name(self, value_id: int) -> str | None:
        return next((n for n, i in self.ids.items() if i == value_id), None)

    def as_answer(self) -> dict:
        return {
            "attrID": self.attr_id,
            "name": self.name,
            "required": self.required,
            "inputType": self.input_type,
            "isSKUAttribute": self.sku,
            "fieldType": self.field_type,
            "units": list(self.units),
            "aspect": 1 if self.sku else 0,
            "attrValues": [{"attrValueID": self.ids[v], "name": v} for v in self.values],
        }


def _attr(attr_id: int, name: str, input_type: str, values=(), **extra) -> Attribute:
    fixed = extra.pop("fixed_ids", {})
    ids = {v: fixed.get(v, stable_id(str(attr_id), v, low=10_000, span=90_000_000)) for v in values}
    return Attribute(attr_id, name, input_type, values=tuple(values), ids=ids, **extra)


YES_NO = ("是", "否")
IMPORTED = 1141
ORIGIN = 8243
SIZE_CLASS = 100031
EXPORT_ONLY = 7002
DOWNSTREAM = 182282223
# Value ids of the record's example, kept for its two conditions.
BIG_ITEM_VALUE = 46874
EXPORT_YES_VALUE = 21958
IMPORTED_YES_VALUE = 20001

COMMON = (
    _attr(CARGO_NUMBER_ATTR, "货号", TEXT, required=True),
    _attr(
        2176, "品牌", DROPDOWN, ("其他", "无品牌", "义乌好货", "优品汇", "南极人"), required=True
    ),
    _attr(
        IMPORTED,
        "是否进口",
        RADIO,
        YES_NO,
        required=True,
        fixed_ids={"是": IMPORTED_YES_VALUE, "否": 20002},
    ),
    _attr(ORIGIN, "原产国/地区", DROPDOWN, ("日本", "韩国", "美国", "德国", "泰国", "越南")),
    _attr(
        EXPORT_ONLY,
        "是否跨境出口专供货源",
        RADIO,
        YES_NO,
        fixed_ids={"是": EXPORT_YES_VALUE, "否": 21959},
    ),
    _attr(
        SIZE_CLASS, "件型", DROPDOWN, ("小件", "中件", "大件"), fixed_ids={"大件": BIG_ITEM_VALUE}
    ),
    _attr(DOWNSTREAM, "主要下游平台", MULTI, ("亚马逊", "速卖通", "eBay", "Shopee", "TikTok")),
    _attr(1627138, "上市时间", DATE, field_type="date"),
    _attr(2320, "毛重", NUMBER, units=("g",), field_type="number"),
)
CASCADES = {
    f"{IMPORTED}:{IMPORTED_YES_VALUE}": str(ORIGIN),
    f"{SIZE_CLASS}:{BIG_ITEM_VALUE}>{EXPORT_ONLY}:{EXPORT_YES_VALUE}": str(DOWNSTREAM),
}
COLOUR = _attr(
    3216,
    "颜色",
    DROPDOWN,
    ("白色", "黑色", "红色", "蓝色", "粉色", "灰色", "杏色", "卡其色", "绿色", "黄色"),
    sku=True,
)
FAMILIES = {
    "apparel": (
        COLOUR,
        _attr(450, "尺码", DROPDOWN, ("XS", "S", "M", "L", "XL", "2XL", "3XL", "均码"), sku=True),
        _attr(
            287,
            "面料",
            DROPDOWN,
            ("纯棉", "涤纶", "冰丝", "雪纺", "棉麻", "莫代尔", "羊毛"),
            required=True,
        ),
        _attr(31611, "风格", DROPDOWN, ("韩版", "简约", "复古", "街头", "通勤", "法式")),
        _attr(122216347, "适用季节", MULTI, ("春季", "夏季", "秋季", "冬季"), required=True),
    ),
    "shoes": (
        COLOUR,
        _attr(450, "尺码", DROPDOWN, tuple(str(s) for s in range(35, 45)), sku=True),
        _attr(287, "鞋面材质", DROPDOWN, ("真皮", "PU", "网布", "帆布", "飞织"), required=True),
        _attr(31611, "风格", DROPDOWN, ("休闲", "运动", "商务", "时尚")),
    ),
    "digital": (
        COLOUR,
        _attr(
            100017,
            "适用型号",
            DROPDOWN,
            ("iPhone15", "iPhone16 Pro", "iPhone16 Pro Max", "华为Mate60", "小米14", "通用"),
            sku=True,
        ),
        _attr(287, "材质", DROPDOWN, ("硅胶", "TPU", "PC", "金属", "皮革"), required=True),
        _attr(3151, "是否带包装", RADIO, YES_NO),
    ),
    "kitchen": (
        COLOUR,
        _attr(7869, "容量", DROPDOWN, ("350ml", "500ml", "750ml", "1000ml", "1500ml"), sku=True),
        _attr(
            287,
            "材质",
            DROPDOWN,
            ("304不锈钢", "316不锈钢", "玻璃", "陶瓷", "塑料", "竹木"),
            required=True,
        ),
        _attr(3152, "是否食品级", RADIO, YES_NO, required=True),
    ),
    "home": (
        COLOUR,
        _attr(1627207, "规格", DROPDOWN, ("小号", "中号", "大号", "特大号", "套装"), sku=True),
        _attr(287, "材质", DROPDOWN, ("塑料", "布艺", "木质", "金属", "纸质"), required=True),
    ),
    "toys": (
        COLOUR,
        _attr(100000691, "尺寸", DROPDOWN, ("20cm", "30cm", "45cm", "60cm", "80cm"), sku=True),
        _attr(287, "材质", DROPDOWN, ("毛绒", "塑料", "木质", "硅胶"), required=True),
        _attr(3153, "适用年龄", DROPDOWN, ("0-3岁", "3-6岁", "6-14岁", "14岁以上"), required=True),
    ),
    "bags": (
        COLOUR,
        _attr(1627207, "规格", DROPDOWN, ("小号", "中号", "大号"), sku=True),
        _attr(287, "材质", DROPDOWN, ("牛津布", "尼龙", "帆布", "PU", "真皮"), required=True),
    ),
    "bedding": (
        COLOUR,
        _attr(100000691, "尺寸", DROPDOWN, ("1.2m床", "1.5m床", "1.8m床", "2.0m床"), sku=True),
        _attr(287, "面料", DROPDOWN, ("纯棉", "磨毛", "天丝", "水洗棉"), required=True),
    ),
    "beauty": (
        COLOUR,
        _attr(1627207, "规格", DROPDOWN, ("小样", "正装", "套装"), sku=True),
        _attr(3154, "保质期", NUMBER, units=("月",), field_type="number", required=True),
        _attr(3155, "功效", MULTI, ("补水", "保湿", "美白", "控油", "防晒")),
    ),
    "sports": (
        COLOUR,
        _attr(1627207, "规格", DROPDOWN, ("小号", "中号", "大号", "套装"), sku=True),
        _attr(287, "材质", DROPDOWN, ("TPE", "PVC", "铝合金", "碳纤维", "尼龙"), required=True),
    ),
}


def attributes_for(category_id: int) -> tuple[Attribute, ...] | None:
    """The leaf's attributes (None for an unknown or non-leaf category)."""
    item = nodes().get(category_id)
    if item is None or not item.is_leaf:
        return None
    return COMMON + FAMILIES[item.family]


def cascades_for(category_id: int) -> dict[str, str]:
    return dict(CASCADES) if attributes_for(category_id) is not None else {}


def leaf_ids() -> list[int]:
    return [n.category_id for n in nodes().values() if n.is_leaf]
