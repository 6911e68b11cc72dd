"""Realistic Chinese wholesale offers (productInfo dicts) and the changes the mutator makes.

Prices are computed with Decimal and stored as JSON numbers (floats whose repr is the exact
two-decimal price, so they read back exactly).
"""

import hashlib
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from . import categories, images
from .offers import Offer

CENT = Decimal("0.01")
DAY_MS = 86_400_000

COLOUR = (3216, "颜色")
SIZE = (450, "尺码")
SPEC = (1627207, "规格")
MODEL = (100017, "型号")
CAPACITY = (7869, "容量")
DIMENSION = (100000691, "尺寸")

COLOURS = (
    "白色",
    "黑色",
    "杏色",
    "粉色",
    "浅蓝色",
    "灰色",
    "卡其色",
    "藏青色",
    "酒红色",
    "牛油果绿",
)
CLOTHING_SIZES = ("S", "M", "L", "XL", "2XL", "3XL")


@dataclass(frozen=True)
class Category:
    category_id: int
    name: str
    nouns: tuple[str, ...]
    styles: tuple[str, ...]
    materials: tuple[str, ...]
    tails: tuple[str, ...]
    second_axis: tuple[tuple[int, str], tuple[str, ...]]
    unit: str
    price_yuan: tuple[float, float]


# fmt: off
CATEGORIES = (
    Category(
        1031910, "女式T恤", ("短袖T恤女", "圆领上衣女", "印花T恤女"),
        ("韩版宽松", "法式复古", "简约百搭", "日系小清新"), ("纯棉", "冰丝", "莫代尔"),
        ("夏季百搭上衣", "显瘦打底衫", "学生半袖"), (SIZE, CLOTHING_SIZES), "件", (9.8, 39.0),
    ),
    Category(
        1031918, "连衣裙", ("连衣裙", "碎花长裙", "吊带裙"),
        ("法式温柔", "高腰显瘦", "气质收腰"), ("雪纺", "棉麻", "醋酸"),
        ("夏季新款女装", "度假风长裙", "通勤裙子"), (SIZE, CLOTHING_SIZES[:5]), "件", (29.0, 89.0),
    ),
    Category(
        1031929, "男式衬衫", ("长袖衬衫男", "休闲衬衣男", "条纹衬衫"),
        ("商务修身", "免烫", "宽松潮流"), ("纯棉", "牛津纺", "竹纤维"),
        ("春秋款上班工装", "男士外套", "大码男装"), (SIZE, CLOTHING_SIZES), "件", (25.0, 69.0),
    ),
    Category(
        122588001, "儿童套装", ("儿童套装", "男童短袖两件套", "女童卫衣套装"),
        ("卡通", "洋气", "运动风"), ("纯棉", "华夫格", "毛圈"),
        ("中小童宝宝衣服", "童装批发", "亲子装"),
        (SIZE, ("90cm", "100cm", "110cm", "120cm", "130cm", "140cm")), "套", (19.0, 59.0),
    ),
    Category(
        1046691, "手机壳", ("手机壳", "磁吸保护套", "液态硅胶壳"),
        ("ins风", "简约透明", "卡通可爱"), ("液态硅胶", "TPU", "磨砂"),
        ("全包防摔", "适用苹果华为", "镜头全包"),
        (MODEL, ("iPhone15", "iPhone16 Pro", "iPhone16 Pro Max", "华为Mate60", "小米14")),
        "个", (2.5, 15.0),
    ),
    Category(
        121950004, "保温杯", ("保温杯", "吸管杯", "车载咖啡杯"),
        ("大容量", "便携", "高颜值"), ("316不锈钢", "304不锈钢", "陶瓷内胆"),
        ("学生水杯", "礼品定制logo", "户外运动水壶"),
        (CAPACITY, ("350ml", "500ml", "750ml", "1000ml")), "个", (12.0, 45.0),
    ),
    Category(
        124208002, "收纳盒", ("收纳盒", "抽屉式收纳柜", "桌面整理盒"),
        ("家用", "可叠加", "透明"), ("PP塑料", "亚克力", "布艺"),
        ("衣柜整理神器", "宿舍置物", "零食杂物收纳"),
        (SPEC, ("小号", "中号", "大号", "特大号")), "个", (3.9, 29.0),
    ),
    Category(
        1037192, "毛绒玩具", ("毛绒玩具", "玩偶公仔", "抱枕娃娃"),
        ("可爱", "卡通", "网红同款"), ("PP棉", "短毛绒", "水晶超柔"),
        ("抓机娃娃", "生日礼物", "儿童安抚"),
        (DIMENSION, ("25cm", "40cm", "60cm", "80cm")), "个", (6.5, 49.0),
    ),
    Category(
        1042471, "双肩包", ("双肩包", "书包", "电脑背包"),
        ("大容量", "休闲", "轻便防水"), ("牛津布", "尼龙", "帆布"),
        ("学生初中生", "旅行出差", "男女通用"), (SPEC, ("小号", "中号", "大号")), "个",
        (18.0, 79.0),
    ),
    Category(
        50000436, "床上四件套", ("床上四件套", "被套床单三件套", "床品套件"),
        ("北欧简约", "少女心", "水洗棉"), ("纯棉", "磨毛", "天丝"),
        ("宿舍单人", "1.8m床", "家纺批发"),
        (DIMENSION, ("1.2m床", "1.5m床", "1.8m床", "2.0m床")), "套", (39.0, 159.0),
    ),
)
# fmt: on
YEAR_PREFIXES = ("2026新款", "2026夏季新款", "2026秋冬新款", "工厂直销", "跨境热卖", "新款")


def _category_pattern(category: Category) -> int:
    # Same-category main pictures share most of their mosaic, so image search finds neighbours.
    digest = hashlib.sha256(f"category-{category.category_id}".encode()).digest()
    return images.balance(int.from_bytes(digest[:8], "big"))


CATEGORY_PATTERNS = {category.category_id: _category_pattern(category) for category in CATEGORIES}


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def price_number(value: Decimal) -> float:
    """The JSON number for a price; float(repr) of a 2-decimal value reads back exactly."""
    return float(money(value))


def spec_id(product_id: int, combination: str) -> str:
    return hashlib.md5(f"{product_id}|{combination}".encode()).hexdigest()  # noqa: S324


def random_image_path(rng: random.Random, pattern: int | None = None) -> str:
    pattern = images.balance(rng.getrandbits(64) if pattern is None else pattern)
    return images.path_for_pattern(pattern, rng.randrange(1000), rng.randrange(1000))


def main_image_path(rng: random.Random, category: Category) -> str:
    pattern = CATEGORY_PATTERNS[category.category_id]
    for _ in range(rng.randrange(9)):
        pattern ^= 1 << rng.randrange(64)
    return random_image_path(rng, pattern)


def sku_combination(attributes: list[dict]) -> str:
    """The identity of a SKU inside its offer: its attribute values in order."""
    return ">".join(f"{item['attributeID']}:{item['attributeValue']}" for item in attributes)


def _subject(rng: random.Random, category: Category, style: str, material: str) -> str:
    noun, tail = rng.choice(category.nouns), rng.choice(category.tails)
    return f"{rng.choice(YEAR_PREFIXES)}{style}{material}{noun} {tail}"[:128]


def _tier_prices(rng: random.Random, base: Decimal, minimum: int) -> list[dict]:
    """1 to 3 tiers, each 7 % cheaper than the one before."""
    tiers, price = [], base
    for start in (minimum, 50, 200)[: rng.choice((1, 2, 3, 3))]:
        tiers.append({"startQuantity": start, "price": price_number(price)})
        price = money(price * Decimal("0.93"))
    return tiers


def _sku_axes(rng: random.Random, category: Category) -> tuple[list[str], list[str]]:
    """Colours x second-axis values, at most 12 combinations."""
    colour_count = rng.choice((1, 1, 2, 2, 3, 3, 4, 5, 6))
    values = category.second_axis[1]
    second_count = rng.randint(1, max(1, min(len(values), 12 // colour_count)))
    return rng.sample(COLOURS, colour_count), list(values[:second_count])


def _attribute(axis: tuple[int, str], value: str) -> dict:
    return {"attributeID": axis[0], "attributeName": axis[1], "attributeValue": value}


def _skus(
    rng: random.Random,
    product_id: int,
    category: Category,
    base: Decimal,
    sku_priced: bool,
    first_sku_id: int,
) -> list[dict]:
    colours, seconds = _sku_axes(rng, category)
    second_axis = category.second_axis[0]
    skus = []
    for index, (colour, second) in enumerate((c, s) for c in colours for s in seconds):
        attributes = [_attribute(COLOUR, colour), _attribute(second_axis, second)]
        # SKU-priced offers charge a yuan more per step of the second axis (bigger sizes).
        price = money(base + index % len(seconds)) if sku_priced else base
        skus.append(
            {
                "skuId": first_sku_id + index,
                "specId": spec_id(product_id, sku_combination(attributes)),
                "attributes": attributes,
                "price": price_number(price),
                "retailPrice": price_number(price * Decimal("1.8")),
                "amountOnSale": rng.choice((0, 5, 20, 88, 100, 300, 500, 999, 2000)),
                "skuCode": f"{product_id % 100000:05d}-{index + 1:02d}",
            }
        )
    return skus


def _sale_info(
    rng: random.Random, category: Category, base: Decimal, skus: list[dict], sku_priced: bool
) -> dict:
    minimum = rng.choice((1, 1, 2, 3, 5, 10))
    price_ranges = _tier_prices(rng, base, minimum)
    if sku_priced:
        price_ranges = [{"startQuantity": minimum, "price": min(sku["price"] for sku in skus)}]
    return {
        "supportOnlineTrade": True,
        "mixWholeSale": True,
        "priceRanges": price_ranges,
        "amountOnSale": sum(sku["amountOnSale"] for sku in skus),
        "minOrderQuantity": minimum,
        "unit": category.unit,
        "quoteType": 1 if sku_priced else 0,
    }


# quoteType (docs/protocol.md): 0 tiers for the whole offer, 1 a price per SKU, 2 tiers shared
# by all SKUs. Shares of generated offers: ~40 % quoteType 1 (a third of them with a per-SKU
# priceRange), ~36 % quoteType 2 with SKUs WITHOUT a price (the official alibaba.product.get
# doc example: the price lives only in saleInfo.priceRanges), ~12 % quoteType 0 without SKUs,
# ~12 % quoteType 0 whose SKUs repeat the first tier price (the sandbox's older shape).
QUOTE_SHARES = ((2, 0.60), (0, 0.20))  # of the offers that are not priced per SKU
PER_SKU_RANGE_SHARE = 1 / 3


def _apply_quote_type(rng: random.Random, info: dict, sku_priced: bool) -> None:
    """Reshape a generated offer to its quoteType. ``rng`` is the offer's own generator, so
    the draws of the main stream (and every other field of the offer) stay as they were."""
    sale, skus = info["saleInfo"], info["skuInfos"]
    if sku_priced:
        if rng.random() < PER_SKU_RANGE_SHARE:
            for sku in skus:
                sku["priceRange"] = _sku_price_range(sku["price"], sale["minOrderQuantity"])
        return
    draw, quote_type = rng.random(), None
    for candidate, share in QUOTE_SHARES:
        if draw < share:
            quote_type = candidate
            break
        draw -= share
    if quote_type == 2:
        sale["quoteType"] = 2
        for sku in skus:
            sku.pop("price", None)
    elif quote_type == 0:  # one article, no SKUs: the offer's own stock
        info["skuInfos"] = []


def _sku_price_range(price: float, minimum: int) -> list[dict]:
    """A SKU's own tiers: its price from the minimum, 5 % off from 100 pieces."""
    base = Decimal(str(price))
    return [
        {"startQuantity": minimum, "price": price_number(base)},
        {"startQuantity": max(minimum + 1, 100), "price": price_number(base * Decimal("0.95"))},
    ]


def _offer_attributes(category_id: int, style: str, material: str) -> list[dict]:
    """As a seller published it against the leaf's schema: 品牌, the material (a custom value
    where it is not one of the attribute's), the style, and every other required attribute of
    the leaf (是否进口 = 否, so no cascade applies). 货号 is the offer's cargo number."""

    def attribute(attribute_id: int, name: str, value: str, custom: bool) -> dict:
        return {
            "attributeID": attribute_id,
            "attributeName": name,
            "valueID": 0,
            "value": value,
            "isCustom": custom,
        }

    schema = {a.attr_id: a for a in categories.attributes_for(category_id) or ()}
    material_attribute = schema.get(287)
    rows = [
        attribute(2176, "品牌", "其他", False),
        attribute(
            287,
            material_attribute.name if material_attribute else "材质",
            material,
            not (material_attribute and material in material_attribute.values),
        ),
        attribute(7108, "风格", style, True),
    ]
    given = {2176, 287, 7108, categories.CARGO_NUMBER_ATTR}
    for attr_id, spec in schema.items():
        if spec.required and not spec.sku and attr_id not in given:
            rows.append(attribute(attr_id, spec.name, _plain_value(spec), False))
    return rows


def _plain_value(spec) -> str:
    if spec.input_type == categories.NUMBER:
        return "12"
    if spec.input_type == categories.DATE:
        return "2026-01-01"
    if "否" in spec.values:
        return "否"
    return spec.values[0] if spec.values else "见详情"


def _pictures(rng: random.Random, category: Category, skus: list[dict]) -> list[str]:
    pictures = [main_image_path(rng, category)]
    pictures += [random_image_path(rng) for _ in range(rng.randrange(5))]
    if rng.random() < 0.3:  # some sellers show a picture per colour
        for sku in skus:
            sku["attributes"][0]["skuImageUrl"] = rng.choice(pictures)
    return pictures


def generate_offer(
    rng: random.Random, product_id: int, member_id: str, first_sku_id: int, now_ms: int
) -> Offer:
    """One offer, created and last modified some time in the past year; uses at most 12 SKU
    ids from ``first_sku_id``. About 85 % carry a cargo number; ~96 % are published."""
    category = rng.choice(CATEGORIES)
    style, material = rng.choice(category.styles), rng.choice(category.materials)
    subject = _subject(rng, category, style, material)
    base = money(rng.uniform(*category.price_yuan))
    sku_priced = rng.random() < 0.4
    skus = _skus(rng, product_id, category, base, sku_priced, first_sku_id)
    info = {
        "productID": product_id,
        "productType": "wholesale",
        "categoryID": category.category_id,
        "categoryName": category.name,
        "subject": subject,
        "description": f"<p>{subject}</p><p>材质：{material}；义乌现货，支持一件代发。</p>",
        "language": "CHINESE",
        "status": rng.choices(("published", "outdated", "auditing"), (96, 3, 1))[0],
        "attributes": _offer_attributes(category.category_id, style, material),
        "image": {"images": _pictures(rng, category, skus)},
        "saleInfo": _sale_info(rng, category, base, skus, sku_priced),
        "skuInfos": skus,
        "shippingInfo": {
            "freightTemplateID": 1,
            "unitWeight": round(rng.uniform(0.1, 2.0), 2),
            "handlingTime": rng.choice((24, 48, 72)),
            "sendGoodsAddressText": "浙江省 金华市 义乌市",
        },
    }
    if rng.random() < 0.85:
        info["cargoNumber"] = f"{rng.choice(('YW', 'DX', 'HZ', 'SZ'))}-{product_id % 10**7:07d}"
    _apply_quote_type(random.Random(f"quote-{product_id}"), info, sku_priced)
    create_ms = now_ms - rng.randint(DAY_MS, 365 * DAY_MS)
    modified_ms = rng.randint(create_ms, now_ms - 60_000)
    month_sold = min(int(rng.paretovariate(1.3) * 5) - 5, 50_000)  # most sell little, a few a lot
    return Offer(product_id, member_id, create_ms, modified_ms, info, month_sold)


# --- changes -----------------------------------------------------------------------------
def recompute_amount_on_sale(info: dict) -> None:
    skus = info.get("skuInfos") or []
    if skus:
        info["saleInfo"]["amountOnSale"] = sum(int(sku.get("amountOnSale") or 0) for sku in skus)


def change_prices(rng: random.Random, info: dict, delta: Decimal | None = None) -> None:
    """Every tier, SKU price and per-SKU tier moves by the same factor (never by zero), or by
    ``delta`` yuan when given (e.g. -8: every tier 8 yuan cheaper; never below a cent)."""
    factor = Decimal(rng.choice(("0.88", "0.92", "0.95", "1.05", "1.08", "1.15")))

    def move(price) -> float:
        return _shifted(price, delta) if delta is not None else _moved(price, factor)

    for tier in info["saleInfo"].get("priceRanges") or []:
        tier["price"] = move(tier["price"])
    for sku in info.get("skuInfos") or []:
        if sku.get("price") is not None:
            sku["price"] = move(sku["price"])
        for tier in sku.get("priceRange") or []:
            tier["price"] = move(tier["price"])


def _moved(price, factor: Decimal) -> float:
    old = Decimal(str(price))
    new = money(old * factor)
    if new == old:  # a small price cannot move by a few percent: move it by a cent
        new = old - CENT if factor < 1 and old > CENT else old + CENT
    return price_number(new)


def _shifted(price, delta: Decimal) -> float:
    return price_number(max(CENT, money(Decimal(str(price)) + delta)))


def change_stock(rng: random.Random, info: dict) -> None:
    """Every SKU gets a new stock figure different from the old one."""
    skus = info.get("skuInfos") or []
    for sku in skus:
        old = int(sku.get("amountOnSale") or 0)
        selling_down = old > 0 and rng.random() < 0.5
        sku["amountOnSale"] = rng.randrange(old) if selling_down else old + rng.randint(1, 300)
    if not skus:
        sale = info["saleInfo"]
        sale["amountOnSale"] = int(sale.get("amountOnSale") or 0) + rng.randint(1, 300)
    recompute_amount_on_sale(info)
