"""Reference outputs of the Hugging Face implementation for a T5Gemma 2 checkpoint directory.

Runs transformers' own T5Gemma 2 (fp32, eager attention) on fixed inputs and writes the encoder's last_hidden_state,
first-step and teacher-forced decoder logits (at a fixed sample of vocabulary ids) and greedy generate() tokens to JSON, so the C# conversion can be compared with the implementation it ports. transformers is not installable
on the project's machines; run this where it is (the GPU machine has transformers 5.17), e.g.:

    t5rag model create-random --preset tiny --seed 20251214 --tokenizer <dir> tiny-hf
    python3 make_goldens.py tiny-hf goldens-tiny-seed20251214.json

Commit the JSON under tests/T5Gemma2.Rag.Tests/Conversion/Goldens/.
"""

import json
import sys

import torch
import transformers
from transformers import T5Gemma2ForConditionalGeneration

# Fixed inputs: padded rows, sequences longer than the tiny preset's sliding window (4), <bos> (2) and <end_of_image> (256000).
INPUTS = [
    [2, 651, 9259, 1902, 236764, 256000, 107, 3721, 88, 17, 40960, 2, 5001, 77, 6],
    [2, 11, 22, 33, 44, 55, 66, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 2, 900, 901, 902, 903, 904, 905, 906, 907],
]
# Teacher-forced decoder ids, longer than the sliding window, so the decoder's windowed self part is checked at every position.
FORCED_DECODER_IDS = [2, 651, 9259, 1902, 236764, 107, 3721, 88, 17, 40960]
MASKS = [
    [1] * 15,
    [1] * 7 + [0] * 8,
    [0] * 6 + [1] * 9,
]


def main(checkpoint: str, output: str) -> None:
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    if (major, minor) < (5, 7):
        sys.exit(f"transformers {transformers.__version__}: need >= 5.7 (earlier versions mis-built T5Gemma 2 masks)")

    model = T5Gemma2ForConditionalGeneration.from_pretrained(checkpoint, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    encoder = model.get_encoder()
    with torch.no_grad():
        states = encoder(input_ids=torch.tensor(INPUTS), attention_mask=torch.tensor(MASKS)).last_hidden_state

        # Decoder: first-step logits (decoder input = bos 2) at a fixed sample of vocabulary ids, and greedy generate().
        decoder_start = torch.full((len(INPUTS), 1), model.config.decoder.bos_token_id)
        logits = model(input_ids=torch.tensor(INPUTS), attention_mask=torch.tensor(MASKS), decoder_input_ids=decoder_start).logits[:, 0, :]
        sample_ids = list(range(0, logits.shape[-1], 997))
        forced = torch.tensor([FORCED_DECODER_IDS] * len(INPUTS))
        forced_logits = model(input_ids=torch.tensor(INPUTS), attention_mask=torch.tensor(MASKS), decoder_input_ids=forced).logits
        generated = model.generate(
            input_ids=torch.tensor(INPUTS), attention_mask=torch.tensor(MASKS), max_new_tokens=32, do_sample=False, num_beams=1
        )

    with open(output, "w", encoding="utf-8") as handle:
        json.dump(
            {
                "transformers_version": transformers.__version__,
                "torch_version": torch.__version__,
                "checkpoint": checkpoint,
                "input_ids": INPUTS,
                "attention_mask": MASKS,
                "last_hidden_state": states.tolist(),
                "first_step_logit_ids": sample_ids,
                "first_step_logits": logits[:, sample_ids].tolist(),
                "forced_decoder_ids": FORCED_DECODER_IDS,
                "forced_logits": forced_logits[:, :, sample_ids].tolist(),
                "greedy_tokens": generated.tolist(),
            },
            handle,
        )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_goldens.py <checkpoint-dir> <output.json>")
    main(sys.argv[1], sys.argv[2])
