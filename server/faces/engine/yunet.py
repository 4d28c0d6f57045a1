"""YuNet, the detector of the SFace, FaceNet and card engines (cv2.FaceDetectorYN)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from server.faces import weights as W
from server.faces.engine.base import DetectedFace, Pool, check_image, quiet_cv2

YUNET_SCORE_MIN = 0.6  # candidate boxes below this are dropped (quality gate applies its own floor)
# YuNet runs on a copy scaled down to these longer sides, coarse first; the finer pass runs only when the coarse
# one finds nothing. 320 px is 4-6x faster than 640 px and, measured on the 50 deepface photos, gives the same
# identity separation (landmarks are scaled back to full resolution for the alignment crop).
DETECT_SIDES = (320, 640)
FINE_SIDE = 320  # landmarks_near: the square around a face is measured at this side (the face ~half of it)


class YuNet:
    def __init__(self, weights_dir: Path, slots: int):
        import cv2

        self._cv2 = cv2  # the engine that owns this detector sets OpenCV's thread count
        path = str(weights_dir / W.YUNET_FILE)
        self._pool = Pool(lambda: quiet_cv2(cv2.FaceDetectorYN.create, path, "", (320, 320), YUNET_SCORE_MIN, 0.3,
                                              50), slots)

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        check_image(image)
        longest = max(image.shape[:2])
        faces: list[DetectedFace] = []
        for i, side in enumerate(DETECT_SIDES):
            if i > 0 and longest <= DETECT_SIDES[i - 1]:
                break  # the previous pass already saw the image at full resolution
            faces = self._detect_at(image, side)
            if faces:
                break
        return faces

    def _detect_at(self, image: np.ndarray, max_side: int) -> list[DetectedFace]:
        cv2 = self._cv2
        h, w = image.shape[:2]
        scale = min(1.0, max_side / max(h, w))
        # at least 1 px each way: a 100000x1 image scaled to 640 px would otherwise ask cv2.resize for 0 rows
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = image if scale == 1.0 else cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        with self._pool.take() as det:
            det.setInputSize((small.shape[1], small.shape[0]))
            _, rows = det.detect(small)
        faces = []
        for row in ([] if rows is None else rows):
            x, y, bw, bh = (row[:4] / scale).tolist()
            x0, y0 = max(0, round(x)), max(0, round(y))
            x1, y1 = min(w, round(x + bw)), min(h, round(y + bh))
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            marks = (row[4:14].reshape(5, 2) / scale).astype(np.float32)
            faces.append(DetectedFace(x0, y0, x1 - x0, y1 - y0, float(row[14]), marks))
        faces.sort(key=lambda f: f.area, reverse=True)
        return faces

    def landmarks_near(self, image: np.ndarray, face: DetectedFace, side: int = FINE_SIDE) -> np.ndarray | None:
        """The five landmarks of `face` measured again on a square around it (twice the box) scaled to `side` px:
        at the detection pass's 320-px copy a kiosk face is ~100 px and its landmarks jitter by several % of the face
        width; here the face is ~side/2 px. The face found nearest the square's centre is taken; if none is found
        there, the detection's own landmarks are returned."""
        cv2 = self._cv2
        check_image(image)
        if face.landmarks is None:
            return None
        cx, cy = face.x + face.w / 2.0, face.y + face.h / 2.0
        scale = side / (2.0 * max(face.w, face.h))
        m = np.array([[scale, 0, side / 2 - cx * scale], [0, scale, side / 2 - cy * scale]], np.float32)
        crop = cv2.warpAffine(image, m, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        with self._pool.take() as det:
            det.setInputSize((side, side))
            _, rows = det.detect(crop)
        if rows is None or not len(rows):
            return face.landmarks
        row = min(rows, key=lambda r: (r[0] + r[2] / 2 - side / 2) ** 2 + (r[1] + r[3] / 2 - side / 2) ** 2)
        if abs(row[0] + row[2] / 2 - side / 2) > side / 4 or abs(row[1] + row[3] / 2 - side / 2) > side / 4:
            return face.landmarks  # not the same face
        return ((row[4:14].reshape(5, 2) - m[:, 2]) / scale).astype(np.float32)

    @staticmethod
    def row(face: DetectedFace) -> np.ndarray:
        """The 15-float YuNet row cv2.FaceRecognizerSF.alignCrop expects (image pixel coordinates)."""
        marks = face.landmarks if face.landmarks is not None else np.zeros((5, 2), np.float32)
        return np.array([face.x, face.y, face.w, face.h, *marks.reshape(-1), face.score], dtype=np.float32)
