"""Publishing by the category's schema: the publish form, the add and the legacy add's dry
run (docs/protocol.md, "Publishing what 1688 accepts")."""

from __future__ import annotations

from collections.abc import Mapping

from .. import answers
from ..errors import BusinessError, MalformedResponseError, OutcomeUnknownError
from ..transport import RETRY_LATER_CODES, Transport, parsed
from ..types import NewProductResult, PreviewResult, ProductSchema
from . import PRODUCT_NAMESPACE

# alibaba.new.product.* `scene`: required; working publishers send one of these (docs/protocol.md).
PUBLISH_SCENES = ("cbu", "popular", "industry")


class PublishApi(Transport):
    def get_product_schema(
        self,
        access_token: str,
        category_id: int | None,
        *,
        scene: str,
        offer_id: int | None = None,
    ) -> ProductSchema:
        """alibaba.new.product.getSchema: the publish form of a leaf (result.bizData, a JSON
        string), or of one's own offer's leaf by `offer_id` (the SDK requires only `scene`);
        SYS_ERROR is retried after 1-3 s."""
        api = "alibaba.new.product.getSchema"
        params = {"catId": category_id, "scene": scene, "offerId": offer_id}

        def run() -> ProductSchema:
            answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
            return parsed(
                lambda body: answers.parse_product_schema(body, category_id, scene), answer, api
            )

        return self._read_retrying(api, run)

    def add_new_product(
        self,
        access_token: str,
        *,
        category_id: int,
        data_body: Mapping,
        scene: str,
        biz_param: Mapping | None = None,
    ) -> NewProductResult:
        """alibaba.new.product.add (`scene` required: one of PUBLISH_SCENES). `data_body`:
        {"formValues": {"outerId" (the 货号), "title", "primaryPicture", "catProp",
        "skuTable", "priceRange", "freight", "cbuSendAddress", ...}, "global": {...}}
        (catalog/publishing/upload/schema_body.py builds it).
        Not idempotent: a lost answer, a server error, an unreadable success and SYS_ERROR
        raise OutcomeUnknownError (reconcile by 货号 before sending again); a refusal raises
        BusinessError whose `code` is the bizCode."""
        api = "alibaba.new.product.add"
        params = {
            "catId": category_id,
            "scene": scene,
            "dataBody": dict(data_body),
            "bizParam": dict(biz_param) if biz_param is not None else None,
        }
        answer = self.call(
            PRODUCT_NAMESPACE, api, params, access_token=access_token, idempotent=False
        )
        try:
            return parsed(answers.parse_new_product, answer, api)
        except MalformedResponseError as exc:
            message = f"the offer may have been created ({exc.message})"
            raise OutcomeUnknownError(message, api=api, http_status=200) from exc
        except BusinessError as exc:
            if exc.code in RETRY_LATER_CODES:
                message = f"the offer may have been created ({exc.code}: {exc.message})"
                raise OutcomeUnknownError(message, code=exc.code, api=api, http_status=200) from exc
            raise

    def preview_product(self, access_token: str, product: Mapping) -> PreviewResult:
        """alibaba.product.add.preview: the legacy add's dry run (same fields); nothing is
        created, so it is retried like any read. A refusal is a PreviewResult with ok False."""
        api = "alibaba.product.add.preview"
        params = {"webSite": "1688", "language": "CHINESE", **product}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_preview, answer, api)
