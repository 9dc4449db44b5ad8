"""Makes varied test images and runs the official VLMo evaluation transform on them with PIL/torch.

usage: pil_transform.py OUT_DIR SIZE
Writes OUT_DIR/<name>.<ext> (the image), <name>.u8 (PIL bicubic resize, RGB uint8, SIZE x SIZE x 3) and
<name>.f32 (ToTensor + Normalize(0.5, 0.5), float32 CHW), and OUT_DIR/index.json listing them.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

out, size = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1234)


def scene(w, h):
    # smooth gradients + noise + hard edges: exercises every part of the kernel
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)), ((x + y) * 3) % 256], -1)
    noise = rng.integers(0, 60, size=(h, w, 3))
    img = (base + noise).clip(0, 255).astype(np.uint8)
    img[h // 3 : h // 2, w // 4 : w // 2] = rng.integers(0, 256, 3)
    return img


specs = [
    # (name, width, height, mode, format)
    ("rgb_large_png", 640, 480, "RGB", "PNG"),
    ("rgb_tall_png", 300, 900, "RGB", "PNG"),
    ("rgb_wide_png", 1000, 200, "RGB", "PNG"),
    ("rgb_small_upscale_png", 50, 37, "RGB", "PNG"),
    ("rgb_exact_png", size, size, "RGB", "PNG"),
    ("rgb_one_side_png", size, 500, "RGB", "PNG"),
    ("rgba_png", 400, 300, "RGBA", "PNG"),
    ("palette_png", 333, 222, "P", "PNG"),
    ("gray_png", 420, 260, "L", "PNG"),
    ("gray_alpha_png", 260, 420, "LA", "PNG"),
    ("tiny_png", 7, 5, "RGB", "PNG"),
    ("odd_png", 517, 389, "RGB", "PNG"),
    ("rgb_jpeg", 640, 427, "RGB", "JPEG"),
    ("rgb_jpeg_q95", 500, 375, "RGB", "JPEG"),
    ("rgb_jpeg_444", 480, 640, "RGB", "JPEG444"),
    ("gray_jpeg", 360, 240, "L", "JPEG"),
    ("big_jpeg", 1280, 960, "RGB", "JPEG"),
    ("rgb_webp_lossless", 320, 240, "RGB", "WEBP"),
    ("rgba_webp_lossless", 240, 320, "RGBA", "WEBP"),
    ("square_jpeg", 224, 224, "RGB", "JPEG"),
    ("panorama_jpeg", 1600, 300, "RGB", "JPEG"),
    ("exif_rotated_jpeg", 400, 200, "RGB", "JPEG_EXIF"),
]
index = []
for name, w, h, mode, fmt in specs:
    arr = scene(w, h)
    img = Image.fromarray(arr, "RGB")
    if mode == "RGBA":
        a = Image.fromarray(rng.integers(0, 256, size=(h, w)).astype(np.uint8), "L")
        img = img.convert("RGBA")
        img.putalpha(a)
    elif mode == "P":
        img = img.quantize(64)
    elif mode in ("L", "LA"):
        img = img.convert(mode)
    ext = {"PNG": "png", "JPEG": "jpg", "JPEG444": "jpg", "JPEG_EXIF": "jpg", "WEBP": "webp"}[fmt]
    path = os.path.join(out, f"{name}.{ext}")
    if fmt == "JPEG":
        img.save(path, "JPEG", quality=95 if "q95" in name else 85)
    elif fmt == "JPEG444":
        img.save(path, "JPEG", quality=90, subsampling=0)
    elif fmt == "JPEG_EXIF":
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90; the official loader ignores it
        img.save(path, "JPEG", quality=85, exif=exif.tobytes())
    elif fmt == "WEBP":
        img.save(path, "WEBP", lossless=True)
    else:
        img.save(path, "PNG")
    # the official loader: PIL open + convert('RGB'), then Resize((S, S), BICUBIC), ToTensor, Normalize(0.5, 0.5)
    rgb = Image.open(path).convert("RGB")
    resized = rgb.resize((size, size), Image.BICUBIC)
    u8 = np.asarray(resized, dtype=np.uint8)
    t = u8.astype(np.float32).transpose(2, 0, 1) / np.float32(255)
    t = (t - np.float32(0.5)) / np.float32(0.5)
    u8.tofile(os.path.join(out, f"{name}.u8"))
    t.astype(np.float32).tofile(os.path.join(out, f"{name}.f32"))
    index.append({"name": name, "file": os.path.basename(path), "width": w, "height": h, "format": fmt, "mode": mode})
json.dump(index, open(os.path.join(out, "index.json"), "w"), indent=1)
