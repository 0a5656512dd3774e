#!/usr/bin/env python3
"""Sentence-transformers goldens (issue 14: a standalone T5Gemma 2 encoder's ST repository, and EmbeddingGemma).

Runs sentence-transformers (written against 6.0.x, the GPU machine has 6.0.1; 5.4+ should work) on top of
transformers (>= 5.1 for t5gemma2_encoder; the GPU machine has 5.17) and writes one JSON per model directory with:
the directory's layout (files, the small JSON files verbatim, every safetensors header: name, dtype, shape), the
tokenizer's effective special tokens, and, per prompt, the token ids, ST's prompt length, the sentence embedding after
every module, encode() outputs per Matryoshka dimension (raw truncation and truncation + normalize_embeddings=True),
include_prompt=False pooling, every pooling mode on the same token states, and Dense activation checks with their
weights written out. No network: set HF_HUB_OFFLINE=1; every path is local.

Modes
  make-tiny --tokenizer TOKDIR --work WORK
      Builds tiny random repositories of both layouts with transformers' save_pretrained and ST's own module save:
      WORK/tiny-st-t5gemma2-encoder and WORK/tiny-embeddinggemma. TOKDIR holds a Gemma 3 tokenizer.json and
      tokenizer_config.json (the project's artifacts/assets/gemma3-tokenizer); vocab stays 262,144 so real ids fit.
  goldens --model DIR [--model DIR ...] --out OUTDIR [--work WORK] [--dims 768,512,256,128] [--token-states]
      One OUTDIR/<dirname>.json per model directory: a tiny one from make-tiny, one written by
      `t5rag model create-random --layout ...`, or a real repository downloaded beforehand
      (google/embeddinggemma-300m, tomaarsen/t5gemma2-270m-gooaq-cmnrl). A directory whose tokenizer_config.json has a
      chat_template or processor_class (create-random copies the Gemma 3 tokenizer's as it is) is run from a copy under
      WORK without them, so ST stays text-only as the real repositories are; the layout is recorded from the original.
      The C# test (tests/T5Gemma2.Rag.Tests/Conversion/SentenceTransformersGoldenTests.cs) reads
      Goldens/embeddinggemma-tiny.json and Goldens/st-t5gemma2-encoder-tiny.json, made from
        t5rag model create-random --layout embeddinggemma --preset tiny --seed 20251207 \
            --tokenizer artifacts/assets/gemma3-tokenizer embeddinggemma-tiny
        t5rag model create-random --layout st-t5gemma2-encoder --preset tiny --seed 20251207 \
            --tokenizer artifacts/assets/gemma3-tokenizer st-t5gemma2-encoder-tiny
      and recreates the same directories from the seed, so no weights need to travel back.
  all --tokenizer TOKDIR --work WORK --out OUTDIR [--model DIR ...]
      make-tiny, then goldens for the two tiny repositories and any --model given.

On the device machine (files from $OUT come back; at most 8 files, 16 MiB each):
  HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1 python3 tools/hf-reference/make_st_goldens.py all --tokenizer <carried tokenizer dir> \
      --work /tmp/i14 --out $OUT --model <carried create-random dir> ...
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

try:  # sentence-transformers >= 5.4
    from sentence_transformers.base.modules import Dense, Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
except ImportError:  # older layout
    from sentence_transformers.models import Dense, Normalize, Pooling, Transformer

# EmbeddingGemma-300m's prompts (config_sentence_transformers.json as third-party copies give it; see the spec).
EMBEDDINGGEMMA_PROMPTS = {
    "query": "task: search result | query: ",
    "document": "title: none | text: ",
    "BitextMining": "task: search result | query: ",
    "Clustering": "task: clustering | query: ",
    "Classification": "task: classification | query: ",
    "InstructionRetrieval": "task: code retrieval | query: ",
    "MultilabelClassification": "task: classification | query: ",
    "PairClassification": "task: sentence similarity | query: ",
    "Reranking": "task: search result | query: ",
    "Retrieval": "task: search result | query: ",
    "Retrieval-query": "task: search result | query: ",
    "Retrieval-document": "title: none | text: ",
    "STS": "task: sentence similarity | query: ",
    "Summarization": "task: summarization | query: ",
}

# Texts: empty, short, a word the prompt's trailing space merges with, non-ASCII and emoji, a literal special-token
# string (HF parses it as the special token; t5rag keeps it as text: compare only where the flag is false), and one
# longer than the tiny presets' max_seq_length (32) so truncation (and EOS kept last) shows.
TEXTS = [
    ("", False),
    ("hello", False),
    ("The quick brown fox jumps over the lazy dog.", False),
    ("Grüße aus Köln — 東京 🙂 naïve café", False),
    ("what is <eos> here", True),
    (" ".join(f"word{i}" for i in range(60)), False),
]

LAYOUT_JSON_LIMIT = 200_000  # bytes: JSON files up to this size are copied into the goldens verbatim


# --------------------------------------------------------------------------------------------------------------
# make-tiny
# --------------------------------------------------------------------------------------------------------------

def _randomize(model: torch.nn.Module, seed: int) -> None:
    """Seeded weights of unit-ish activations; RMSNorm weights (zero-initialised) get noise so norm bugs show."""
    generator = torch.Generator().manual_seed(seed)
    hidden = None
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("embed_tokens.weight"):
                hidden = parameter.shape[-1]
                std = 1.0 / math.sqrt(hidden)
            elif name.endswith("eoi_embedding"):
                std = 1.0
            elif "norm" in (name.split(".")[-2] if "." in name else ""):
                std = 0.1
            elif parameter.ndim >= 2:
                std = 1.0 / math.sqrt(parameter.shape[-1])
            else:
                std = 0.1
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float32).to(parameter.dtype) * std)


def _copy_tokenizer(tokenizer_dir: Path, target: Path, add_eos: bool, eos_token: str) -> None:
    """tokenizer.json as is; tokenizer_config.json without chat_template/processor_class (so ST stays text-only and
    AutoProcessor does not look for an image processor), with the layout's add_bos/add_eos and eos token."""
    shutil.copy(tokenizer_dir / "tokenizer.json", target / "tokenizer.json")
    config = json.loads((tokenizer_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    for key in ("chat_template", "processor_class"):
        config.pop(key, None)
    config["add_bos_token"] = True
    config["add_eos_token"] = add_eos
    config["eos_token"] = eos_token
    config["model_max_length"] = 32
    config["padding_side"] = "right"
    (target / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")


def _text_transformer(path: Path, max_seq_length: int, tokenizer_dir: Path | None = None) -> Transformer:
    """A Transformer module on `path`, text modality only, eager attention, fp32."""
    kwargs = {"max_seq_length": max_seq_length}
    parameters = inspect.signature(Transformer.__init__).parameters
    model_kwargs = {"attn_implementation": "eager", "dtype": torch.float32}
    if "model_kwargs" in parameters:
        kwargs["model_kwargs"] = model_kwargs
    else:  # sentence-transformers < 5.4
        kwargs["model_args"] = model_kwargs
    if "modality_config" in parameters:
        kwargs["modality_config"] = {"text": {"method": "forward", "method_output_name": "last_hidden_state"}}
        kwargs["module_output_name"] = "token_embeddings"
    try:
        return Transformer(str(path), **kwargs)
    except Exception as error:  # AutoProcessor may want a processor for this model type: load the tokenizer alone
        if tokenizer_dir is None:
            raise
        print(f"Transformer({path}) failed ({error!r}); retrying with the tokenizer alone (the saved directory may then"
              " not reload: its goldens run will say so)", file=sys.stderr)
        alone = path.parent / (path.name + "-tokenizer")
        alone.mkdir(exist_ok=True)
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(path / name, alone / name)
        # A config AutoProcessor has no processor for, so it falls back to AutoTokenizer.
        (alone / "config.json").write_text(json.dumps({"model_type": "gemma3_text"}), encoding="utf-8")
        return Transformer(str(path), tokenizer_name_or_path=str(alone), **kwargs)


def make_tiny(tokenizer_dir: Path, work: Path, seed: int = 20261207) -> list[Path]:
    from transformers import Gemma3TextConfig, Gemma3TextModel, SiglipVisionConfig
    from transformers.models.t5gemma2.configuration_t5gemma2 import T5Gemma2EncoderConfig, T5Gemma2TextConfig
    from transformers.models.t5gemma2.modeling_t5gemma2 import T5Gemma2Encoder

    torch.manual_seed(seed)
    work.mkdir(parents=True, exist_ok=True)
    layer_types = ["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"]
    # heads != kv heads, head_dim (8) != query_pre_attn_scalar (12), window 4 < the test lengths
    dims = dict(
        vocab_size=262_144, hidden_size=16, intermediate_size=24, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=12, sliding_window=4, layer_types=layer_types,
        pad_token_id=0, bos_token_id=2, eos_token_id=1, rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh",
    )
    made = []

    # A: standalone T5Gemma 2 encoder (transformers' T5Gemma2Encoder; tiny SigLIP tower, unused for text).
    backbone = work / "backbone-t5gemma2-encoder"
    if backbone.exists():
        shutil.rmtree(backbone)
    text_config = T5Gemma2TextConfig(
        **dims, max_position_embeddings=512,
        rope_parameters={"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1_000_000.0},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0}})
    vision_config = SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                                       image_size=28, patch_size=14)
    encoder_config = T5Gemma2EncoderConfig(text_config=text_config, vision_config=vision_config, mm_tokens_per_image=4,
                                           boi_token_index=255_999, eoi_token_index=256_000, image_token_index=256_001)
    encoder = T5Gemma2Encoder(encoder_config).eval()
    _randomize(encoder, seed)
    encoder.save_pretrained(str(backbone))
    _copy_tokenizer(tokenizer_dir, backbone, add_eos=False, eos_token="<eos>")
    # AutoProcessor maps t5gemma2_encoder to Gemma3Processor, which needs an image processor config: a real ST
    # repository of this layout carries these two files, and ST cannot load the directory without them.
    (backbone / "preprocessor_config.json").write_text(json.dumps({
        "image_processor_type": "Gemma3ImageProcessor", "processor_class": "Gemma3Processor",
        "do_resize": True, "size": {"height": 28, "width": 28}, "resample": 2, "do_rescale": True,
        "rescale_factor": 1 / 255, "do_normalize": True, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
        "do_convert_rgb": None, "do_pan_and_scan": None}, indent=2), encoding="utf-8")
    (backbone / "processor_config.json").write_text(json.dumps({"processor_class": "Gemma3Processor", "image_seq_length": 4}), encoding="utf-8")
    target = work / "tiny-st-t5gemma2-encoder"
    if target.exists():
        shutil.rmtree(target)
    st = SentenceTransformer(
        modules=[_text_transformer(backbone, 32, tokenizer_dir), Pooling(16, pooling_mode="mean"), Normalize()],
        prompts={"query": "query: ", "document": "passage: "}, similarity_fn_name="cosine", device="cpu")
    st.save(str(target), create_model_card=False)
    made.append(target)

    # B: EmbeddingGemma layout (Gemma3TextModel, bidirectional; mean -> Dense 16->64 -> Dense 64->16 -> Normalize).
    backbone = work / "backbone-embeddinggemma"
    if backbone.exists():
        shutil.rmtree(backbone)
    gemma_config = Gemma3TextConfig(**dims, max_position_embeddings=64, use_bidirectional_attention=True)
    gemma = Gemma3TextModel(gemma_config).eval()
    _randomize(gemma, seed + 1)
    gemma.save_pretrained(str(backbone))
    _copy_tokenizer(tokenizer_dir, backbone, add_eos=True, eos_token="<eos>")
    target = work / "tiny-embeddinggemma"
    if target.exists():
        shutil.rmtree(target)
    generator = torch.Generator().manual_seed(seed + 2)
    dense_up = Dense(16, 64, bias=False, activation_function=torch.nn.Identity())
    dense_down = Dense(64, 16, bias=False, activation_function=torch.nn.Identity())
    with torch.no_grad():
        dense_up.linear.weight.copy_(torch.randn(64, 16, generator=generator) / 4.0)
        dense_down.linear.weight.copy_(torch.randn(16, 64, generator=generator) / 8.0)
    st = SentenceTransformer(
        modules=[_text_transformer(backbone, 32, tokenizer_dir), Pooling(16, pooling_mode="mean"), dense_up, dense_down,
                 Normalize()],
        prompts=dict(EMBEDDINGGEMMA_PROMPTS), similarity_fn_name="cosine", device="cpu")
    st.save(str(target), create_model_card=False)
    made.append(target)
    return made


# --------------------------------------------------------------------------------------------------------------
# goldens
# --------------------------------------------------------------------------------------------------------------

def _safetensors_header(path: Path) -> dict:
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    metadata = header.pop("__metadata__", None)
    return {"metadata": metadata,
            "tensors": {name: {"dtype": info["dtype"], "shape": info["shape"]} for name, info in sorted(header.items())}}


def _layout(directory: Path) -> dict:
    files, jsons, safetensors = [], {}, {}
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory).as_posix()
        if path.is_dir():
            files.append(relative + "/")
            continue
        files.append(relative)
        if path.suffix == ".json" and path.stat().st_size <= LAYOUT_JSON_LIMIT:
            try:
                jsons[relative] = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as error:
                jsons[relative] = f"<not JSON: {error}>"
        elif path.suffix == ".safetensors":
            safetensors[relative] = _safetensors_header(path)
    tokenizer_config = directory / "tokenizer_config.json"
    if tokenizer_config.exists() and "tokenizer_config.json" not in jsons:
        config = json.loads(tokenizer_config.read_text(encoding="utf-8"))
        config.pop("added_tokens_decoder", None)
        if "chat_template" in config:
            config["chat_template"] = f"<{len(config['chat_template'])} chars>"
        jsons["tokenizer_config.json"] = config
    return {"files": files, "json": jsons, "safetensors": safetensors}


def _round(value):
    if isinstance(value, list):
        return [_round(v) for v in value]
    return float(format(value, ".9g"))  # 9 significant digits round-trip float32


def _floats(tensor: torch.Tensor) -> list:
    return _round(tensor.detach().to(torch.float32).cpu().numpy().tolist())


def _ids(features: dict) -> dict:
    return {"input_ids": features["input_ids"].tolist(), "attention_mask": features["attention_mask"].tolist()}


def _run_modules(st: SentenceTransformer, features: dict) -> tuple[dict, list]:
    """Runs the modules one by one; returns the final features and [(module type, sentence_embedding after it)]."""
    steps = []
    for name, module in st.named_children():
        features = module(features)
        if "sentence_embedding" in features:
            steps.append({"module": name, "type": type(module).__name__, "sentence_embedding": _floats(features["sentence_embedding"])})
    return features, steps


def _transformer(st: SentenceTransformer):
    return st[0]


def _prompt_length(st: SentenceTransformer, prompt: str | None):
    if not prompt:
        return None
    method = getattr(_transformer(st), "_get_prompt_length", None)
    try:
        return method(prompt) if method else None
    except Exception as error:  # private API: record why
        return f"<{error!r}>"


def _tokenizer_facts(st: SentenceTransformer) -> dict:
    tokenizer = st.tokenizer
    facts = {"class": type(tokenizer).__name__}
    for attribute in ("bos_token", "bos_token_id", "eos_token", "eos_token_id", "pad_token", "pad_token_id",
                      "padding_side", "truncation_side", "model_max_length", "add_bos_token", "add_eos_token"):
        value = getattr(tokenizer, attribute, None)
        facts[attribute] = value if isinstance(value, (int, float, str, bool, type(None))) else repr(value)
    facts["all_special_ids"] = list(getattr(tokenizer, "all_special_ids", []))
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and backend.post_processor is not None:
        try:
            facts["post_processor"] = json.loads(backend.post_processor.__getstate__())
        except Exception:
            facts["post_processor"] = repr(backend.post_processor)
    facts["encode_empty"] = tokenizer("")["input_ids"]
    facts["encode_hello"] = tokenizer("hello")["input_ids"]
    facts["max_seq_length"] = st.max_seq_length
    return facts


def _pooling_modes(features: dict, hidden: int, prompt_length) -> dict:
    """Every pooling mode (and one concatenation) on the same token states, with and without the prompt."""
    result = {}
    for mode in ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken", ("cls", "mean")):
        key = mode if isinstance(mode, str) else "+".join(mode)
        for include_prompt in (True, False):
            if not include_prompt and not isinstance(prompt_length, int):
                continue
            pooling = Pooling(hidden, pooling_mode=mode, include_prompt=include_prompt)
            copy = {k: v for k, v in features.items() if k in ("token_embeddings", "attention_mask", "prompt_length")}
            out = pooling(copy)["sentence_embedding"]
            result[f"{key}{'' if include_prompt else ':exclude_prompt'}"] = _floats(out)
    return result


def _dense_checks(dimension: int, seed: int = 7) -> list:
    """Dense modules of each activation ST stores by name, with bias, on fixed inputs: weights, inputs, outputs and
    the config.json ST writes for them (activation_function strings), so the C# Dense is checked without weight files."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(3, dimension, generator=generator)
    checks = []
    for activation in (torch.nn.Identity(), torch.nn.Tanh(), torch.nn.GELU(), torch.nn.ReLU(), torch.nn.Sigmoid()):
        out_features = 5
        dense = Dense(dimension, out_features, bias=True, activation_function=activation)
        with torch.no_grad():
            dense.linear.weight.copy_(torch.randn(out_features, dimension, generator=generator) / math.sqrt(dimension))
            dense.linear.bias.copy_(torch.randn(out_features, generator=generator) * 0.1)
        output = dense({"sentence_embedding": inputs.clone()})["sentence_embedding"]
        checks.append({
            "config": dense.get_config_dict(),
            "weight": _floats(dense.linear.weight), "bias": _floats(dense.linear.bias),
            "input": _floats(inputs), "output": _floats(output),
        })
    return checks


def _text_only(model_dir: Path, work: Path) -> tuple[Path, list[str]]:
    """The directory ST should load: `model_dir` itself, or a copy whose tokenizer_config.json lacks the keys that make
    ST 6 infer a chat ("message") modality or AutoProcessor look for a processor class."""
    config_path = model_dir / "tokenizer_config.json"
    if not config_path.exists():
        return model_dir, []
    config = json.loads(config_path.read_text(encoding="utf-8"))
    dropped = [key for key in ("chat_template", "processor_class") if key in config]
    if not dropped:
        return model_dir, []
    staged = work / "text-only" / model_dir.name
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(model_dir, staged)
    for key in dropped:
        config.pop(key)
    (staged / "tokenizer_config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
    return staged, dropped


def goldens(model_dir: Path, out_dir: Path, dims: list[int] | None, token_states: bool, work: Path | None = None) -> Path:
    original = model_dir
    model_dir, dropped = _text_only(model_dir, work or Path("/tmp/st-goldens"))
    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True,
                             model_kwargs={"attn_implementation": "eager", "dtype": torch.float32})
    st.eval()
    backbone = _transformer(st).auto_model
    if hasattr(backbone, "set_attn_implementation"):
        try:
            backbone.set_attn_implementation("eager")
        except Exception:
            backbone.config._attn_implementation = "eager"
    else:
        backbone.config._attn_implementation = "eager"
    text_config = backbone.config.get_text_config() if hasattr(backbone.config, "get_text_config") else backbone.config
    dimension = st.get_embedding_dimension()
    hidden = text_config.hidden_size
    if dims is None:
        dims = [d for d in (768, 512, 256, 128) if d <= dimension] or [dimension, max(1, dimension // 2), max(1, dimension // 4)]
    texts = [t for t, _ in TEXTS]
    result = {
        "versions": {"sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
                     "torch": torch.__version__, "numpy": np.__version__},
        "model_dir": original.name,
        "layout": _layout(original),
        "tokenizer_config_keys_dropped_for_st": dropped,
        "modules": [{"name": n, "type": f"{type(m).__module__}.{type(m).__name__}"} for n, m in st.named_children()],
        "backbone": {"class": type(backbone).__name__, "model_type": backbone.config.model_type,
                     "effective_sliding_window": getattr(text_config, "sliding_window", None),
                     "use_bidirectional_attention": getattr(text_config, "use_bidirectional_attention", None),
                     "layer_types": list(getattr(text_config, "layer_types", []) or []),
                     "rope_parameters": getattr(text_config, "rope_parameters", None),
                     "state_dict_keys_sample": sorted(backbone.state_dict().keys())[:12]},
        "prompts": dict(st.prompts), "default_prompt_name": st.default_prompt_name,
        "similarity_fn_name": st.similarity_fn_name, "truncate_dim": st.truncate_dim,
        "embedding_dimension": dimension, "hidden_size": hidden, "matryoshka_dims": dims,
        "tokenizer": _tokenizer_facts(st),
        "texts": texts, "text_has_special_token_string": [flag for _, flag in TEXTS],
        "cases": [],
    }

    # encode_query / encode_document choose prompts by name; record which strings they used.
    result["encode_query_prompt"] = "query" if "query" in st.prompts else st.default_prompt_name
    result["encode_document_prompt"] = next((n for n in ("document", "passage", "corpus") if n in st.prompts), st.default_prompt_name)

    # One case per distinct prompt string (names that share a string share a case), plus no prompt.
    names_by_prompt: dict[str | None, list[str]] = {None: []}
    for name, prompt in st.prompts.items():
        names_by_prompt.setdefault(prompt or None, []).append(name)
    with torch.no_grad():
        for prompt, names in names_by_prompt.items():
            case = {"prompt": prompt, "prompt_names": names, "prompt_length": _prompt_length(st, prompt)}
            features = st.preprocess(texts, prompt=prompt)
            case.update(_ids(features))
            # A prompt tokenized alone, as ST measures it (ids, so the BOS/EOS handling is visible).
            if prompt:
                case["prompt_alone_ids"] = st.tokenizer(prompt)["input_ids"]
            final, steps = _run_modules(st, dict(features))
            case["module_outputs"] = steps
            # Real-size models: token states only on request, pooling modes only for no prompt and the query prompt
            # (a file must stay under the device's 16 MiB per returned file).
            small = hidden <= 64
            main_case = prompt is None or "query" in names
            if token_states or (small and main_case):
                case["token_embeddings"] = _floats(final["token_embeddings"])
            if small or main_case:
                case["pooling_modes"] = _pooling_modes(final, final["token_embeddings"].shape[-1], case["prompt_length"])
            # encode() as users call it: by prompt name where there is one, else the prompt string itself.
            # prompt="" (not None) so that a default_prompt_name does not slip into the no-prompt case.
            kwargs = {"prompt_name": names[0]} if names else {"prompt": prompt or ""}
            case["encode"] = {}
            for d in [None] + dims:
                for normalize in (False, True):
                    vectors = st.encode(texts, truncate_dim=d, normalize_embeddings=normalize, convert_to_tensor=True,
                                        batch_size=len(texts), **kwargs)
                    case["encode"][f"dim={d or dimension}:normalize_embeddings={normalize}"] = _floats(vectors)
            result["cases"].append(case)

        # include_prompt=False on the model's own pooling, with the query prompt (or the first one there is).
        prompt_name = result["encode_query_prompt"] or next(iter(st.prompts), None)
        if prompt_name and st.prompts.get(prompt_name):
            pooling_modules = [m for m in st if isinstance(m, Pooling)]
            saved = [m.include_prompt for m in pooling_modules]
            st.set_pooling_include_prompt(False)
            result["exclude_prompt"] = {
                "prompt_name": prompt_name,
                "encode": _floats(st.encode(texts, prompt_name=prompt_name, convert_to_tensor=True, batch_size=len(texts))),
            }
            for module, value in zip(pooling_modules, saved):
                module.include_prompt = value

        # Batch independence: each text alone (no padding) must give the batched vector.
        result["encode_one_by_one"] = [_floats(st.encode([t], convert_to_tensor=True))[0] for t in texts]
        result["similarity"] = _floats(st.similarity(st.encode(texts[:3], convert_to_tensor=True),
                                                     st.encode(texts[:3], convert_to_tensor=True)))
    result["dense_checks"] = _dense_checks(hidden)

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{original.name}.json"
    target.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KiB)")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    tiny = sub.add_parser("make-tiny")
    tiny.add_argument("--tokenizer", type=Path, required=True)
    tiny.add_argument("--work", type=Path, required=True)
    gold = sub.add_parser("goldens")
    gold.add_argument("--model", type=Path, action="append", required=True)
    gold.add_argument("--out", type=Path, required=True)
    both = sub.add_parser("all")
    both.add_argument("--tokenizer", type=Path, required=True)
    both.add_argument("--work", type=Path, required=True)
    both.add_argument("--out", type=Path, required=True)
    both.add_argument("--model", type=Path, action="append", default=[])
    gold.add_argument("--work", type=Path, default=Path("/tmp/st-goldens"))
    for p in (gold, both):
        p.add_argument("--dims", type=lambda s: [int(x) for x in s.split(",")], default=None)
        p.add_argument("--token-states", action="store_true", help="token embeddings for every case, not just two")
    args = parser.parse_args()

    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    if (major, minor) < (5, 1):
        sys.exit(f"transformers {transformers.__version__}: need >= 5.1 (t5gemma2_encoder in the auto classes)")
    torch.set_grad_enabled(False)
    torch.use_deterministic_algorithms(True, warn_only=True)

    if args.mode == "make-tiny":
        for path in make_tiny(args.tokenizer, args.work):
            print(f"made {path}")
        return
    models = list(args.model)
    if args.mode == "all":
        models = make_tiny(args.tokenizer, args.work) + models
    failures = 0
    for model in models:
        try:
            goldens(model, args.out, args.dims, args.token_states, args.work)
        except Exception as error:  # keep going: one broken directory should not cost the others' goldens
            failures += 1
            print(f"FAILED {model}: {error!r}", file=sys.stderr)
            import traceback
            traceback.print_exc()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
