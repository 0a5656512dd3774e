"""Reference pixels for the image preprocessing tests: what the Hugging Face Gemma 3 processor's PIL backend
(Gemma3ImageProcessorPil) computes for each image of the test set, at the real model's size (896) and the tiny
preset's (28).

The processor's steps, done here with PIL and numpy alone (so it runs where transformers does not install):
transformers' load_image (ImageOps.exif_transpose, then RGB), convert("RGB") when the mode is not RGB (alpha dropped,
not composited), resize((s, s), Image.BILINEAR) with no aspect preservation, then x / 255 and (x - 0.5) / 0.5.
The resized uint8 RGB image is stored losslessly as PNG (the normalisation is exact arithmetic on it), with
reference/index.json listing each image, its mode and sizes, and the pixel_values statistics.

    python3 tools/hf-reference/make_pixel_goldens.py tests/T5Gemma2.Rag.Tests/Assets/Images

Where transformers is installed (the GPU machine), --transformers FILE also runs the real processors on every image
(Gemma3ImageProcessor, the torchvision backend, and Gemma3ImageProcessorPil) and writes their pixel_values'
difference from the stored reference, and the 28-pixel pixel_values themselves, to FILE:

    python3 tools/hf-reference/make_pixel_goldens.py tests/T5Gemma2.Rag.Tests/Assets/Images --transformers pixels-transformers.json
"""

import argparse
import json
import os

import numpy as np
import PIL
from PIL import Image, ImageOps

SIZES = (896, 28)
EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")


def load_image(path: str) -> Image.Image:
    # transformers.image_utils.load_image for a local path.
    image = Image.open(path)
    image = ImageOps.exif_transpose(image)
    return image.convert("RGB")


def resized(image: Image.Image, size: int) -> Image.Image:
    # Gemma3ImageProcessorPil: convert_rgb (a no-op after load_image), then resize with BILINEAR to (size, size).
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image.resize((size, size), Image.BILINEAR)


def pixel_values(image: Image.Image) -> np.ndarray:
    # Rescale 1/255, normalise mean = std = 0.5; CHW float32.
    x = np.asarray(image, dtype=np.float32) / np.float32(255.0)
    return ((x - 0.5) / 0.5).transpose(2, 0, 1).astype(np.float32)


def images_in(folder: str) -> list:
    return sorted(name for name in os.listdir(folder) if name.lower().endswith(EXTENSIONS) and os.path.isfile(os.path.join(folder, name)))


def make_references(folder: str) -> dict:
    out = os.path.join(folder, "reference")
    os.makedirs(out, exist_ok=True)
    entries = []
    for name in images_in(folder):
        with Image.open(os.path.join(folder, name)) as raw:
            mode, stored = raw.mode, raw.size
        upright = load_image(os.path.join(folder, name))
        entry = {"file": name, "mode": mode, "stored_size": list(stored), "upright_size": list(upright.size), "references": {}}
        for size in SIZES:
            small = resized(upright, size)
            reference = f"{name}.{size}.png"
            small.save(os.path.join(out, reference), optimize=True)
            values = pixel_values(small)
            entry["references"][str(size)] = {
                "file": reference,
                "mean": float(values.mean(dtype=np.float64)),
                "min": float(values.min()),
                "max": float(values.max()),
            }
        entries.append(entry)
        print(f"{name}: {mode} {stored[0]}x{stored[1]} -> upright {upright.size[0]}x{upright.size[1]}")

    index = {
        "made_by": "tools/hf-reference/make_pixel_goldens.py",
        "pil_version": PIL.__version__,
        "numpy_version": np.__version__,
        "steps": "load_image (exif_transpose, convert RGB); resize((s, s), BILINEAR); x/255; (x-0.5)/0.5",
        "sizes": list(SIZES),
        "images": entries,
    }
    with open(os.path.join(out, "index.json"), "w", encoding="utf-8") as handle:
        json.dump(index, handle, indent=1)
        handle.write("\n")
    return index


def run_transformers(folder: str, index: dict, output: str) -> None:
    import torch
    import transformers
    from transformers.image_utils import load_image as hf_load_image

    processors = {}
    for class_name in ("Gemma3ImageProcessor", "Gemma3ImageProcessorPil", "Gemma3ImageProcessorFast"):
        processor_class = getattr(transformers, class_name, None)
        if processor_class is not None:
            processors[class_name] = processor_class

    results = {"transformers_version": transformers.__version__, "processors": sorted(processors), "images": []}
    overall = {name: 0.0 for name in processors}
    for entry in index["images"]:
        image = hf_load_image(os.path.join(folder, entry["file"]))
        row = {"file": entry["file"], "sizes": {}}
        for size in SIZES:
            with Image.open(os.path.join(folder, "reference", entry["references"][str(size)]["file"])) as ref:
                expected = pixel_values(ref.convert("RGB"))
            per_size = {}
            for class_name, processor_class in processors.items():
                processor = processor_class(size={"height": size, "width": size})
                # "pt", as make_vision_goldens.py asks: the torchvision backend returns torch tensors.
                got = processor(images=image, return_tensors="pt")["pixel_values"].to(torch.float32).numpy()[0]
                delta = np.abs(got - expected)
                per_size[class_name] = {
                    "shape": list(got.shape),
                    "max_abs_diff": float(delta.max()),
                    "values_differing": int((delta > 1e-6).sum()),
                }
                if size == 28:
                    per_size[class_name]["pixel_values"] = [round(float(v), 7) for v in got.reshape(-1)]
                overall[class_name] = max(overall[class_name], float(delta.max()))
            row["sizes"][str(size)] = per_size
        results["images"].append(row)
        print(entry["file"], {s: {c: v["max_abs_diff"] for c, v in d.items()} for s, d in row["sizes"].items()})

    results["max_abs_diff"] = overall
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(results, handle)
    print("overall max |diff| against the PIL reference:", overall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("images", help="the test image folder (tests/T5Gemma2.Rag.Tests/Assets/Images)")
    parser.add_argument("--transformers", metavar="FILE", help="also run transformers' Gemma 3 image processors and write their differences here")
    args = parser.parse_args()
    index = make_references(args.images)
    if args.transformers:
        run_transformers(args.images, index, args.transformers)


if __name__ == "__main__":
    main()
