"""Reference outputs of the Hugging Face implementation for T5Gemma 2's image path, on a checkpoint with a vision tower.

Runs transformers' own T5Gemma 2 (fp32, eager attention) and Gemma 3 image processor on two committed test images at
the checkpoint's image size and writes to JSON: the processor's pixel_values (the PIL backend, and the torchvision
backend where torchvision is installed), the SigLIP tower's last_hidden_state, the projector's image features, the
encoder's last_hidden_state over ids that mix text and both images' blocks (the processor's layout: "\\n\\n", begin of
image, the soft tokens, end of image, "\\n\\n"), first-step and teacher-forced decoder logits at a fixed sample of
vocabulary ids, and greedy generate() tokens. transformers is not installable on the project's machines; run this
where it is (the GPU machine has transformers 5.17), e.g.:

    t5rag model create-random --preset tiny --seed 20251214 --tokenizer artifacts/assets/gemma3-tokenizer tiny-hf
    python3 tools/hf-reference/make_vision_goldens.py tiny-hf tests/T5Gemma2.Rag.Tests/Assets/Images \\
        vision-tiny-seed20251214.json

Commit the JSON under tests/T5Gemma2.Rag.Tests/Conversion/Goldens/ (VisionGoldenTests reads it).
"""

import json
import os
import sys

import torch
import transformers
from PIL import Image, ImageOps
from transformers import T5Gemma2ForConditionalGeneration

IMAGES = ("photo-640x480.png", "diagram-300x1200.png")
# Text pieces around the two image blocks (ids of the Gemma 3 tokenizer, as in make_goldens.py).
BEFORE, BETWEEN, AFTER = [651, 9259, 1902], [236764, 107], [3721, 88, 17]
NEWLINES = 108
FORCED_DECODER_IDS = [2, 651, 9259, 1902, 236764, 107, 3721, 88, 17, 40960]


def load_image(path: str) -> Image.Image:
    # transformers.image_utils.load_image for a local path: EXIF orientation, then RGB.
    return ImageOps.exif_transpose(Image.open(path)).convert("RGB")


def processor_pixels(images: list, size: int) -> dict:
    """pixel_values from the Gemma 3 image processor's backends, at size x size (no pan-and-scan)."""
    out = {}
    module = transformers.models.gemma3
    for name in ("Gemma3ImageProcessorPil", "Gemma3ImageProcessor", "Gemma3ImageProcessorFast"):
        cls = getattr(module, name, None)
        if cls is None:
            continue
        try:
            processor = cls(size={"height": size, "width": size}, do_pan_and_scan=False)
            out[name] = processor(images=images, return_tensors="pt")["pixel_values"].to(torch.float32)
        except Exception as error:  # a backend without its dependency (torchvision) is left out, and said so
            print(f"{name}: not run ({type(error).__name__}: {error})", file=sys.stderr)
    if not out:
        sys.exit("no Gemma 3 image processor could run")
    return out


def main(checkpoint: str, image_folder: str, output: str) -> None:
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    if (major, minor) < (5, 7):
        sys.exit(f"transformers {transformers.__version__}: need >= 5.7 (earlier versions mis-built T5Gemma 2 masks)")

    model = T5Gemma2ForConditionalGeneration.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    config = model.config
    encoder_config = config.encoder
    size = encoder_config.vision_config.image_size
    tokens = encoder_config.mm_tokens_per_image
    boi = getattr(config, "boi_token_index", None) or encoder_config.boi_token_index
    eoi = getattr(config, "eoi_token_index", None) or encoder_config.eoi_token_index
    soft = config.image_token_index

    images = [load_image(os.path.join(image_folder, name)) for name in IMAGES]
    backends = processor_pixels(images, size)
    pixels = backends.get("Gemma3ImageProcessorPil", next(iter(backends.values())))

    block = [NEWLINES, boi] + [soft] * tokens + [eoi, NEWLINES]
    ids = [2] + BEFORE + block + BETWEEN + block + AFTER
    input_ids = torch.tensor([ids])
    mask = torch.ones_like(input_ids)

    encoder = model.get_encoder()
    with torch.no_grad():
        tower = encoder.vision_tower(pixel_values=pixels).last_hidden_state
        features = encoder.multi_modal_projector(tower)
        states = encoder(input_ids=input_ids, attention_mask=mask, pixel_values=pixels).last_hidden_state
        start = torch.full((1, 1), config.decoder.bos_token_id)
        logits = model(input_ids=input_ids, attention_mask=mask, pixel_values=pixels, decoder_input_ids=start).logits[:, 0, :]
        sample_ids = list(range(0, logits.shape[-1], 997))
        forced = model(input_ids=input_ids, attention_mask=mask, pixel_values=pixels, decoder_input_ids=torch.tensor([FORCED_DECODER_IDS])).logits
        generated = model.generate(input_ids=input_ids, attention_mask=mask, pixel_values=pixels, max_new_tokens=16, do_sample=False, num_beams=1)

    with open(output, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "transformers_version": transformers.__version__,
                "torch_version": torch.__version__,
                "checkpoint": checkpoint,
                "images": list(IMAGES),
                "image_size": size,
                "pixel_values": pixels.tolist(),
                "pixel_values_by_backend": {name: value.tolist() for name, value in backends.items()},
                "vision_last_hidden_state": tower.tolist(),
                "image_features": features.tolist(),
                "input_ids": ids,
                "last_hidden_state": states[0].tolist(),
                "first_step_logit_ids": sample_ids,
                "first_step_logits": logits[0, sample_ids].tolist(),
                "forced_decoder_ids": FORCED_DECODER_IDS,
                "forced_logits": forced[0][:, sample_ids].tolist(),
                "greedy_tokens": generated[0].tolist(),
            },
            handle,
        )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: make_vision_goldens.py <checkpoint-dir> <image-folder> <output.json>")
    main(sys.argv[1], sys.argv[2], sys.argv[3])
