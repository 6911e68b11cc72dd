"""Your own offers: list, read, add, edit, the live changes (stock, delist, relist) and the
incremental edit of title and tier prices (docs/protocol.md, "Reading your own catalog",
"Changing your own catalog", "Price and title edits")."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from .. import answers
from ..errors import MalformedResponseError, OutcomeUnknownError
from ..transport import Transport, parsed
from ..types import ProductDetail, ProductListPage, ProductSummary
from . import PRODUCT_NAMESPACE

MAX_LIST_PAGE_SIZE = 20  # alibaba.product.list.get cuts larger pages to 20
# product.increment.editInfo: no `alibaba.` prefix (a practitioner's note); practitioners send
# scene "cbu". It takes title, description and tier prices, not catProp, address, freight or
# sizes (docs/protocol.md, "Price and title edits").
INCREMENT_EDIT_API = "product.increment.editInfo"
INCREMENT_EDIT_SCENE = "cbu"


class ProductsApi(Transport):
    def list_products(
        self,
        access_token: str,
        *,
        page_no: int = 1,
        page_size: int = 20,
        start_modify_time: datetime | None = None,
        end_modify_time: datetime | None = None,
        cargo_number: str | None = None,
        status_list: Sequence[str] | None = None,
        product_ids: Sequence[int] | None = None,
        order_by: str = "ID",
        order_type: str = "ASC",
    ) -> ProductListPage:
        params = {
            "pageNo": page_no,
            "pageSize": page_size,
            "startModifyTime": start_modify_time,
            "endModifyTime": end_modify_time,
            "cargoNumber": cargo_number,
            "statusList": None if status_list is None else list(status_list),
            "productIds": None if product_ids is None else list(product_ids),
            "orderByCondition": order_by,
            "orderByType": order_type,
        }
        api = "alibaba.product.list.get"
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_product_list, answer, api)

    def iter_products(
        self,
        access_token: str,
        *,
        start_modify_time: datetime | None,
        end_modify_time: datetime | None,
        page_size: int = 20,
        **filters,
    ) -> Iterator[ProductListPage]:
        """Pages 1..N of one modify-time window, sorted by ID unless `order_by` says otherwise."""
        page_size = min(page_size, MAX_LIST_PAGE_SIZE)  # a cut page would look like the last
        seen = 0
        for page_no in itertools.count(1):
            page = self.list_products(
                access_token,
                page_no=page_no,
                page_size=page_size,
                start_modify_time=start_modify_time,
                end_modify_time=end_modify_time,
                **filters,
            )
            yield page
            seen += len(page.items)
            if len(page.items) < page_size or seen >= page.total_records:
                return

    def get_product(self, access_token: str, product_id: int) -> ProductDetail:
        api = "alibaba.product.get"
        params = {"productID": product_id, "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_product_detail, answer, api)

    def add_product(self, access_token: str, product: Mapping) -> int:
        """Publish an offer; returns its productID. Not idempotent: an unknown outcome raises
        OutcomeUnknownError, to be reconciled by cargo number before sending again."""
        api = "alibaba.product.add"
        params = {"webSite": "1688", "language": "CHINESE", **product}
        answer = self.call(
            PRODUCT_NAMESPACE, api, params, access_token=access_token, idempotent=False
        )
        try:
            return parsed(answers.parse_added_product_id, answer, api)
        except MalformedResponseError as exc:  # a success we cannot read may have created it
            message = f"the offer may have been created ({exc.message})"
            raise OutcomeUnknownError(message, api=api, http_status=200) from exc

    def edit_product(self, access_token: str, product_id: int, changes: Mapping) -> None:
        """Idempotent: an edit sets a state, so a replay sets the same state."""
        api = "alibaba.product.edit"
        params = {"webSite": "1688", **changes, "productID": product_id}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        parsed(answers.check_product_answer, answer, api)

    def find_products_by_cargo_number(
        self, access_token: str, cargo_number: str
    ) -> tuple[ProductSummary, ...]:
        """Offers whose 货号 (attribute 1398, an offer-level cargoNumber or a SKU's) is
        `cargo_number`: alibaba.product.list.get filtered by `cargoNumber`, every page."""
        found: list[ProductSummary] = []
        for page in self.iter_products(
            access_token, start_modify_time=None, end_modify_time=None, cargo_number=cargo_number
        ):
            found.extend(page.items)
        return tuple(found)

    def modify_stock(
        self, access_token: str, changes: Sequence[Mapping], *, increment: bool
    ) -> None:
        """alibaba.product.modifyStock. `changes`: [{"productId", "skuStocks": [{"skuId": the
        SKU's **specId**, "stockChange": n}]}], or [{"productId", "productAmountChange": n}] for
        an offer without SKUs. `increment` True adds n (the platform's default when
        `increaceModify`, so spelled, is absent), False sets n. A delta is not idempotent: an
        answer that may have been lost raises OutcomeUnknownError (re-read the offer)."""
        api = "alibaba.product.modifyStock"
        params = {
            "productStockChange": [dict(change) for change in changes],
            "webSite": "1688",
            "increaceModify": increment,  # always sent: the default (a delta) is the trap
        }
        answer = self.call(
            PRODUCT_NAMESPACE, api, params, access_token=access_token, idempotent=not increment
        )
        parsed(answers.check_product_answer, answer, api)
        # A per-offer refusal some answers carry is caught by the caller re-reading the offer.

    def expire_products(self, access_token: str, product_ids: Sequence[int]) -> None:
        """alibaba.product.expire (下架): the offers become `outdated`. Sets a state: replayable."""
        api = "alibaba.product.expire"
        params = {"productIds": list(product_ids), "webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        parsed(answers.check_product_answer, answer, api)

    def republish_products(self, access_token: str, product_ids: Sequence[int]) -> None:
        """alibaba.product.republish (重新上架); capped per member per day (the SDK says 400)."""
        api = "alibaba.product.republish"
        params = {"productIds": list(product_ids)}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        parsed(answers.check_product_answer, answer, api)

    def increment_edit_info(
        self,
        access_token: str,
        *,
        offer_id: int,
        category_id: int,
        form_values: Mapping,
        scene: str = INCREMENT_EDIT_SCENE,
    ) -> None:
        """product.increment.editInfo: set the given form values of the offer (`dataBody` =
        {"formValues": {...}}, `bizParam` {}). Idempotent (it sets values), so retried like
        a read; raises BusinessError on a refusal, PermissionDeniedError when the app was not
        granted the API."""
        api = INCREMENT_EDIT_API
        params = {
            "catId": category_id,
            "scene": scene,
            "offerId": offer_id,
            "dataBody": {"formValues": dict(form_values)},
            "bizParam": {},
        }
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        parsed(answers.check_increment_edit_answer, answer, api)
