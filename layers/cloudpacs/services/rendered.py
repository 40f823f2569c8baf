"""Rendered resources: instances and frames as consumer images (PS3.18 §9.5, §8.3.5).

Each frame is decoded from its own bytes (one ranged read, as frame retrieval does) plus
the instance's header, or from the whole object where frames are not addressable; then
``dicom.render`` turns it into display values and ``dicom.image_output`` into an image.
Only instances with Pixel Data are rendered; asking to render anything else is 406.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate

from cloudpacs.dicom import image_output, render
from cloudpacs.dicom.frames import number_of_frames
from cloudpacs.dicom.render_params import RenderParams
from cloudpacs.errors import NotAcceptable, NotFound
from cloudpacs.model import InstanceRecord
from cloudpacs.services.retrieve import Frame, RetrieveService, has_pixels


def frame_count(rec: InstanceRecord, header: Dataset) -> int:
    return rec.frames.count if rec.frames is not None else number_of_frames(header)


class RenderService:
    def __init__(self, retrieve: RetrieveService) -> None:
        self.retrieve = retrieve

    def image_instances(
        self, study: str, series: str | None = None, sop: str | None = None
    ) -> list[InstanceRecord]:
        """The instances of the resource that hold pixel data; 406 when none does."""
        records = self.retrieve.instances(study, series, sop)
        images = [r for r in records if has_pixels(r)]
        if not images:
            what = f"instance {sop}" if sop else f"series {series}" if series else f"study {study}"
            classes = sorted({r.sop_class_uid for r in records})
            raise NotAcceptable(
                f"{what} holds no image to render (no Pixel Data; SOP Class {', '.join(classes)})"
            )
        return images

    def frames(
        self, rec: InstanceRecord, numbers: list[int] | None, params: RenderParams
    ) -> tuple[Dataset, list[Any]]:
        """The header and the rendered PIL images of frames ``numbers`` (None: every frame)."""
        header = self.retrieve.header(rec)
        count = frame_count(rec, header)
        numbers = numbers or list(range(1, count + 1))
        for n in numbers:
            if n > count:
                raise NotFound(f"instance {rec.sop_uid} has {count} frame(s); no frame {n}")
        images = []
        for number, arr in zip(numbers, self._arrays(rec, header, numbers), strict=True):
            display = render.display_values(header, arr, params.window)
            image = render.apply_viewport(image_output.to_image(display), params.viewport)
            if params.annotation:
                technique = _technique(header, number, count, params)
                image = image_output.annotate(image, header, params.annotation, technique)
            images.append(image)
        return header, images

    def _arrays(self, rec: InstanceRecord, header: Dataset, numbers: list[int]) -> Iterator[Any]:
        try:
            if rec.frames is None:
                from pydicom.pixels.utils import pixel_array

                data = self.retrieve.read(rec)
                for n in numbers:
                    yield pixel_array(io.BytesIO(data), index=n - 1)
                return
            for frame in self.retrieve.frames(rec, numbers):
                yield _single_frame(header, frame).pixel_array
        except (NotFound, NotAcceptable):
            raise
        except Exception as exc:
            reason = f"pixel data of {rec.sop_uid} could not be decoded: {exc}"
            raise NotAcceptable(reason) from None


def _single_frame(header: Dataset, frame: Frame) -> Dataset:
    """A one-frame dataset of ``header``'s attributes and ``frame``'s bytes."""
    ds = Dataset(header)
    ds.file_meta = FileMetaDataset(header.file_meta)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.UID(frame.transfer_syntax)
    if "NumberOfFrames" in ds:
        ds.NumberOfFrames = 1
    compressed = ds.file_meta.TransferSyntaxUID.is_compressed
    ds.PixelData = encapsulate([frame.data]) if compressed else frame.data
    bits = int(ds.get("BitsAllocated") or 8)
    ds["PixelData"].VR = "OB" if compressed or bits <= 8 else "OW"
    if compressed:
        ds["PixelData"].is_undefined_length = True
    return ds


def _technique(header: Dataset, number: int, count: int, params: RenderParams) -> str:
    parts = [str(header.get("Modality", "") or "")]
    if count > 1:
        parts.append(f"frame {number}/{count}")
    if params.window is not None:
        parts.append(f"C {params.window.center:g} W {params.window.width:g}")
    return "  ".join(p for p in parts if p)
