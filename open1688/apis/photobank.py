"""The seller's photobank: albums and picture uploads (docs/protocol.md, "Publishing what 1688
accepts")."""

from __future__ import annotations

from .. import answers
from ..transport import Transport, parsed
from ..types import Album, PhotobankImage
from . import PRODUCT_NAMESPACE

PHOTO_NAME_MAX = 30  # alibaba.photobank.photo.add: `name` at most 30 characters


class PhotobankApi(Transport):
    def list_albums(self, access_token: str) -> tuple[Album, ...]:
        """alibaba.photobank.album.getList: the seller's photobank albums."""
        api = "alibaba.photobank.album.getList"
        params = {"webSite": "1688"}
        answer = self.call(PRODUCT_NAMESPACE, api, params, access_token=access_token)
        return parsed(answers.parse_albums, answer, api)

    def add_photo(
        self,
        access_token: str,
        *,
        album_id: int,
        name: str,
        image: bytes,
        description: str | None = None,
    ) -> PhotobankImage:
        """alibaba.photobank.photo.add: `image` goes as the multipart file `imageBytes`
        (a file's bytes are not signed); `name` is cut to 30 characters. The platform refuses
        over 2 MB, formats but jpg/jpeg/gif/bmp/png and transparent PNGs. Retried like a read:
        a replayed upload at worst leaves a second copy of the picture in the album."""
        api = "alibaba.photobank.photo.add"
        params = {
            "albumID": album_id,
            "name": name[:PHOTO_NAME_MAX],
            "description": description,
            "webSite": "1688",
        }
        answer = self.call(
            PRODUCT_NAMESPACE,
            api,
            params,
            access_token=access_token,
            files={"imageBytes": image},
        )
        return parsed(answers.parse_photo, answer, api)
