"""A text detector for cleaned pixels: OCR by RapidOCR (the ``ocr`` extra), off by default.

With ``deid_text_detector`` on, the Clean Pixel Data Option runs this detector on the cleaned
pixels of each instance (:mod:`.pixel_clean`); an instance in which it still reads text stays
quarantined (``text_after_cleaning``). It is a second check, not a proof: OCR misses small,
faint or stylised text, so the rules remain what removes the annotation.

``rapidocr-onnxruntime`` ships its detection and recognition models (PP-OCRv4, ONNX) inside
the wheel and runs them on the CPU with onnxruntime: nothing is downloaded and no service is
needed. Frames are checked at the first, middle and last position of a multi-frame image
(burned-in annotation of a cine loop is the same on every frame), as 8-bit images.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

MIN_SCORE = 0.5
"""Recognition confidence from which a box counts as text."""
_WORD = re.compile(r"[A-Za-z0-9]{2,}")


@lru_cache(maxsize=1)
def _engine() -> Any:
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


class OcrTextDetector:
    """``TextDetector`` (see :mod:`.pixel_clean`) backed by RapidOCR."""

    _lock = threading.Lock()

    @staticmethod
    def check_available() -> None:
        """Raise ``ValueError`` at start-up when the OCR package is not installed."""
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            raise ValueError(
                "deid_text_detector needs the 'ocr' extra (rapidocr-onnxruntime), "
                "which is not installed"
            ) from None

    def finds_text(self, frames: np.ndarray, bits_stored: int) -> bool:
        import numpy as np

        count = frames.shape[0]
        for index in sorted({0, count // 2, count - 1}):
            frame = frames[index].astype(np.int64)
            if bits_stored > 8:
                frame = frame >> (bits_stored - 8)
            image = np.clip(frame, 0, 255).astype(np.uint8)
            if image.shape[-1] == 1:
                image = np.repeat(image, 3, axis=-1)
            with self._lock:  # one inference at a time: the engine is shared
                result, _ = _engine()(np.ascontiguousarray(image))
            for _box, text, score in result or []:
                if float(score) >= MIN_SCORE and _WORD.search(str(text)):
                    return True
        return False
