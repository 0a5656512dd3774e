"""Derives the test images that SkiaSharp cannot write (grayscale, grayscale + alpha, palette with transparency,
CMYK JPEG, EXIF-oriented JPEGs, animated GIF, BMP) from the ones make_images.cs drew. Deterministic: PIL only
converts, quantizes and re-encodes. Run with PIL 9.4 (see README.md):

    python3 tools/test-images/make_variants.py tests/T5Gemma2.Rag.Tests/Assets/Images
"""

import os
import sys

from PIL import Image

ORIENTATION = 0x0112


def main(folder: str) -> None:
    def path(name: str) -> str:
        return os.path.join(folder, name)

    photo = Image.open(path("photo-640x480.png")).convert("RGB")
    photo.convert("L").save(path("gray-640x480.png"))
    Image.open(path("rgba-400x300.png")).convert("LA").save(path("gray-alpha-400x300.png"))

    # 16 colours of the diagram; the white background's index is transparent (a tRNS chunk).
    diagram = Image.open(path("diagram-300x1200.png")).convert("RGB")
    palette = diagram.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    white = palette.getpixel((0, 0))
    palette.save(path("palette-300x1200.png"), transparency=white)

    # Adobe CMYK, as Photoshop and print workflows write it; PIL stores it inverted with an Adobe marker.
    photo.convert("CMYK").save(path("cmyk-640x480.jpg"), quality=90)

    # Stored 320x240 with the red block top-left; orientation 6 shows it 240x320 with the block top-right,
    # orientation 8 with the block bottom-left.
    corner = Image.open(path("corner-320x240.png")).convert("RGB")
    for orientation in (6, 8):
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        corner.save(path(f"exif{orientation}-320x240.jpg"), quality=92, exif=exif.tobytes())

    # Three frames; the preprocessor reads the first only.
    small = photo.resize((200, 150), Image.BILINEAR)
    frames = [small, small.transpose(Image.Transpose.FLIP_LEFT_RIGHT), small.rotate(180)]
    frames[0].save(path("animated-200x150.gif"), save_all=True, append_images=frames[1:], duration=200, loop=0)

    # A logo-like GIF whose transparent index has a colour (not black): PIL's RGB gives that colour.
    logo = diagram.crop((0, 0, 300, 300)).resize((120, 120), Image.BILINEAR).quantize(colors=8, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    logo.save(path("transparent-120x120.gif"), transparency=logo.getpixel((0, 0)))

    diagram.resize((250, 180), Image.BILINEAR).save(path("diagram-250x180.bmp"))
    print("\n".join(f"{name}: {os.path.getsize(path(name))} bytes" for name in sorted(os.listdir(folder)) if "." in name))


if __name__ == "__main__":
    main(sys.argv[1])
