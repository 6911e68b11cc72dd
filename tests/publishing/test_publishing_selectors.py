"""The publishing pages' reads (catalog/publishing/selectors.py) take ids as typed or posted:
only ASCII digits name a row; anything else is "none", never a server error."""

import pytest
from django.http import Http404

from catalog.publishing import selectors
from tests.factories import UploadBatchFactory, UploadItemFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["", "²", "１２", "-1", "1.0", " 1", "9" * 19, "x"])
def test_an_id_that_is_not_plain_digits_names_nothing(text):
    batch = UploadBatchFactory()
    UploadItemFactory(batch=batch)
    assert selectors.batch_or_none(text) is None
    assert selectors.item_or_none(batch, text) is None


def test_ids_find_the_batch_and_only_its_own_items():
    batch, other = UploadBatchFactory(), UploadBatchFactory()
    item, stranger = UploadItemFactory(batch=batch), UploadItemFactory(batch=other)
    assert selectors.batch_or_none(str(batch.pk)) == batch
    assert selectors.item_or_none(batch, str(item.pk)) == item
    assert selectors.item_or_none(batch, str(stranger.pk)) is None
    assert selectors.item(batch.pk, item.pk) == item
    with pytest.raises(Http404):
        selectors.item(batch.pk, stranger.pk)
    with pytest.raises(Http404):
        selectors.batch(other.pk + 1000)
