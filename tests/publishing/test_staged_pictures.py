"""Staged pictures live in Django's storage `staged_pictures`, not on the web process's disk: a
picture staff staged on one machine is found by a publish worker on another that shares only
that storage (not the data directory). Real worker processes, the sandbox over HTTP."""

import json
import subprocess
import sys

import pytest

from catalog.models import PhotobankPicture, UploadBatch, UploadItem
from catalog.publishing import services, staged_pictures
from catalog.publishing.categories import attributes_for
from catalog.publishing.upload.publishing import stage_picture
from tests.child_processes import ROOT, child_env
from tests.factories import UploadBatchFactory
from tests.publishing.test_publish import TEE, picture, quick, staged_item  # noqa: F401 - quick: a fixture

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared(settings, tmp_path):
    """This process ("machine A") keeps staged pictures in a folder another machine mounts."""
    folder = tmp_path / "shared-pictures"
    settings.STORAGES = {
        **settings.STORAGES,
        "staged_pictures": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(folder)},
        },
    }
    return folder


def worker_of_machine_b(sandbox, data_dir, storage_options: dict | None) -> None:
    """A publish worker in its own process with its own data directory ("machine B"), sharing
    the database, Redis and 1688 with this one, and the staged pictures' storage if given."""
    env = {**child_env(sandbox), "ERP_DATA_DIR": str(data_dir)}
    env.pop("STAGED_PICTURES_OPTIONS", None)
    if storage_options is not None:
        env["STAGED_PICTURES_OPTIONS"] = json.dumps(storage_options)
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "rqworker", "upload", "--burst",
         "--worker-class", "sync.worker_class.SimpleWorker"],
        cwd=ROOT, env=env, capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-3000:]


def staged_batch(shop, schema) -> UploadBatch:
    batch = UploadBatchFactory(shop=shop)
    staged_item(shop, schema, batch=batch, images=[stage_picture(picture(color=(9, 99, 199)))])
    services.submit_batch(user=None, batch=batch)
    return batch


def test_a_worker_on_another_machine_finds_a_picture_staged_here(
    connected_shop, sandbox, settings, shared, tmp_path
):
    schema = attributes_for(connected_shop, TEE)
    batch = staged_batch(connected_shop, schema)
    (reference,) = batch.items.get().images
    name = reference.removeprefix("staged:")
    assert (shared / name).is_file() and staged_pictures.is_kept(reference)
    assert not (settings.DATA_DIR / "pictures" / name).exists()  # not on this machine's disk

    worker_of_machine_b(sandbox, tmp_path / "machine-b", {"location": str(shared)})

    batch.refresh_from_db()
    item = batch.items.get()
    assert batch.status == UploadBatch.Status.DONE, batch.last_error
    assert item.status == UploadItem.Status.PUBLISHED, item.remote_error_message
    assert PhotobankPicture.objects.filter(shop=connected_shop, sha256=name).exists()
    assert not (tmp_path / "machine-b" / "pictures" / name).exists()


def test_without_the_shared_storage_the_other_machine_cannot_find_it(
    connected_shop, sandbox, shared, tmp_path
):
    """The control: the same worker keeping pictures in its own data directory."""
    schema = attributes_for(connected_shop, TEE)
    batch = staged_batch(connected_shop, schema)

    worker_of_machine_b(sandbox, tmp_path / "machine-b", None)

    item = batch.items.get()
    assert item.status == UploadItem.Status.FAILED
    assert item.remote_error_code == "picture"
    assert "no longer on the server" in item.remote_error_message
    assert not PhotobankPicture.objects.filter(shop=connected_shop).exists()
