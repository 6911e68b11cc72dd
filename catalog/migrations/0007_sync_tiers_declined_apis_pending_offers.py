import django.core.serializers.json
from django.db import migrations, models

import catalog.models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_live_edits"),
    ]

    operations = [
        migrations.AddField(
            model_name="shop",
            name="declined_apis",
            field=catalog.models.JSONField(
                blank=True,
                default=list,
                editable=False,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                verbose_name="APIs not granted",
            ),
        ),
        migrations.AddField(
            model_name="shop",
            name="pending_offers",
            field=catalog.models.JSONField(
                blank=True,
                default=dict,
                editable=False,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                verbose_name="offers to read again",
            ),
        ),
        migrations.AddField(
            model_name="sku",
            name="price_ranges",
            field=catalog.models.JSONField(
                blank=True,
                default=list,
                encoder=django.core.serializers.json.DjangoJSONEncoder,
                verbose_name="price ranges",
            ),
        ),
        migrations.AddField(
            model_name="pricestockchange",
            name="tier_start_quantity",
            field=models.PositiveIntegerField(default=0, verbose_name="tier start quantity"),
        ),
        migrations.AlterField(
            model_name="pricestockchange",
            name="field",
            field=models.CharField(
                choices=[("price", "Price"), ("stock", "Stock"), ("tier_price", "Tier price")],
                max_length=10,
            ),
        ),
        migrations.RemoveConstraint(
            model_name="pricestockchange",
            name="change_once_per_remote_change",
        ),
        migrations.AddConstraint(
            model_name="pricestockchange",
            constraint=models.UniqueConstraint(
                fields=(
                    "product",
                    "remote_sku_id",
                    "field",
                    "tier_start_quantity",
                    "remote_modified_at",
                ),
                name="change_once_per_remote_change",
            ),
        ),
    ]
