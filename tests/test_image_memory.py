"""The server decodes photos within the memory budget DOORSTEP_IMAGE_MEMORY_MB sets, one for uploads and thumbnails."""

import asyncio
import dataclasses
import io

import pytest
from PIL import Image

from factories import headers_for, make_district, make_user, sha256_of, upload
from server.settings import SettingsError, load_settings

MB = 1024 * 1024


@pytest.fixture
def app_settings(settings, tmp_path):
    return dataclasses.replace(settings, media_dir=tmp_path / "media", image_memory_mb=1)


def large_png(n: int) -> bytes:
    """3000x2000 RGBA: a few KB to send, 24 MB once decoded, far past a budget of 1 MB."""
    out = io.BytesIO()
    Image.new("RGBA", (3000, 2000), (30 * n, 120, 200, 128)).save(out, "PNG")
    return out.getvalue()


async def test_uploads_and_their_thumbnails_take_their_memory_from_the_budget_the_setting_sets(
    app, client, settings
) -> None:
    worker = await headers_for(settings, await make_user("worker", (await make_district()).east_a))
    budget = app.state.image_workers.budget
    photos = [large_png(1), large_png(2)]

    answers = await asyncio.gather(*(upload(client, worker, p, "image/png") for p in photos))
    await app.state.thumbnails.settle()

    assert [a.status_code for a in answers] == [201, 201]
    assert budget.limit == 1 * MB and budget.peak_in_use <= budget.limit
    assert budget.granted == 4  # two checks, then each photo's thumbnails
    assert (budget.in_use, budget.holders) == (0, 0)
    assert all([await app.state.photos.exists_derived(sha256_of(p), "large") for p in photos])


def test_a_memory_budget_under_one_megabyte_is_refused() -> None:
    with pytest.raises(SettingsError, match="DOORSTEP_IMAGE_MEMORY_MB"):
        load_settings({"DOORSTEP_IMAGE_MEMORY_MB": "0"})
