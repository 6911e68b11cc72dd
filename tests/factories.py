import json
from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import (
    AttributeSchemaCache,
    PriceStockChange,
    Product,
    Shop,
    Sku,
    SyncRun,
    UploadBatch,
    UploadItem,
)
from sandbox.world import categories as sandbox_categories
from sync.management.commands.demo_setup import DEMO_ATTRIBUTES, DEMO_CATEGORY

# 女式T恤, a leaf of the sandbox's (and 1688's) 女装 > T恤, and the attributes 1688 requires of
# it (品牌, 是否进口, 面料, 适用季节; 货号 1398 is the item's cargo number): the demo's.
TEE, TEE_ATTRIBUTES = DEMO_CATEGORY, DEMO_ATTRIBUTES


def cache_schema(shop_id: int, category_id: int | None) -> None:
    """The leaf's schema as the app caches it after its first read from 1688 (a category the
    sandbox does not have as a leaf is left alone: validation reads it over HTTP)."""
    if sandbox_categories.attributes_for(category_id or 0):
        AttributeSchemaCache.objects.get_or_create(
            shop_id=shop_id,
            category_id=category_id,
            defaults={"answer": schema_answer(category_id)},
        )


def schema_answer(category_id: int) -> dict:
    """alibaba.category.attribute.get of a leaf as the sandbox gateway answers it."""
    return {
        "success": True,
        "attributes": [a.as_answer() for a in sandbox_categories.attributes_for(category_id)],
        "attributeLevelMapStr": json.dumps(sandbox_categories.cascades_for(category_id)),
    }


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct horse battery")

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        """`UserFactory(roles=["operator"])`: put the user in these role groups (erp1688.roles)."""
        if create and extracted:
            from django.contrib.auth.models import Group

            user.groups.add(*(Group.objects.get(name=role) for role in extracted))

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):
        """`UserFactory(permissions=["view_product"])`: give the user these permissions alone
        (by codename), outside any role."""
        if create and extracted:
            from django.contrib.auth.models import Permission

            user.user_permissions.add(*(Permission.objects.get(codename=c) for c in extracted))


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    member_id = factory.Sequence(lambda n: f"b2b-{2200000000 + n}")
    login_id = factory.Sequence(lambda n: f"shop{n}")
    name = factory.Sequence(lambda n: f"义乌测试店{n}")
    access_token = factory.Faker("uuid4")
    refresh_token = factory.Faker("uuid4")
    access_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=10))
    refresh_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=180))


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    offer_id = factory.Sequence(lambda n: 600000000000 + n)
    subject = factory.Sequence(lambda n: f"2026新款纯棉短袖T恤 {n}")
    category_id = 1031910
    status = "published"
    unit = "件"
    min_order_quantity = 2
    price_ranges = factory.LazyFunction(
        lambda: [{"start_quantity": 2, "price": "19.90"}, {"start_quantity": 50, "price": "17.50"}]
    )
    images = factory.LazyFunction(lambda: ["img/ibank/2026/001/002/1_1.jpg"])
    remote_modified_at = factory.LazyFunction(timezone.now)


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    sku_id = factory.Sequence(lambda n: 4000000000000 + n)
    spec_id = factory.Faker("md5")
    attributes = factory.LazyFunction(
        lambda: [
            {"attributeID": 3216, "attributeValue": "白色"},
            {"attributeID": 450, "attributeValue": "M"},
        ]
    )
    price = Decimal("19.90")
    stock = 100


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    shop = factory.SubFactory(ShopFactory)


class PriceStockChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceStockChange

    sku = factory.SubFactory(SkuFactory)
    product = factory.SelfAttribute("sku.product")
    shop = factory.SelfAttribute("product.shop")
    remote_sku_id = factory.SelfAttribute("sku.sku_id")
    field = PriceStockChange.Field.PRICE
    old_value = Decimal("19.90")
    new_value = Decimal("18.80")
    remote_modified_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        # A stock row given as old_value/new_value keeps its counts in the stock columns.
        field = kwargs.get("field", PriceStockChange.Field.PRICE)
        before, after = kwargs.pop("old_value", None), kwargs.pop("new_value", None)
        if field == PriceStockChange.Field.STOCK:
            before = kwargs.pop("old_stock", before)
            after = kwargs.pop("new_stock", after)
        kwargs.update(PriceStockChange.value_columns(field, before, after))
        return super()._create(model_class, *args, **kwargs)


class UploadBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadBatch
        skip_postgeneration_save = True

    shop = factory.SubFactory(ShopFactory)
    name = factory.Sequence(lambda n: f"批次 {n}")

    @factory.post_generation
    def schema_cached(batch, create, extracted, **kwargs):
        """女式T恤's schema cached for the shop (items staged in forms default to it);
        `schema_cached=False` leaves it to be read over HTTP."""
        if create and extracted is not False:
            cache_schema(batch.shop_id, TEE)


class UploadItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UploadItem
        skip_postgeneration_save = True

    batch = factory.SubFactory(UploadBatchFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"夏季韩版宽松纯棉短袖T恤女 {n}")
    category_id = TEE
    price = Decimal("25.00")
    stock = 200
    images = factory.LazyFunction(lambda: ["img/ibank/2026/001/002/1_1.jpg"])
    attributes = factory.LazyFunction(lambda: [dict(a) for a in TEE_ATTRIBUTES])

    @factory.post_generation
    def schema_cached(item, create, extracted, **kwargs):
        """The item's category schema as the app caches it after its first read from 1688, so
        validation needs no gateway; `schema_cached=False` leaves it to be read over HTTP."""
        if create and extracted is not False:
            cache_schema(item.batch.shop_id, item.category_id)
