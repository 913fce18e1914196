"""Tiny random-weight video-LLMs built from configs, for tests and worked examples (no download).

``python -m synth.probe.tiny arch=qwen2_5_vl out=data/tiny-qwen2_5_vl`` writes a directory that
``model=hf model.path=...`` loads: the model (1 LLM layer, hidden size 32, a 1-block vision tower)
and its real processor class with a word-level tokenizer built here. The answers are random; the
point is that every code path of a real checkpoint of that architecture runs.

Architectures (``arch=``): qwen2_vl, qwen2_5_vl, qwen3_vl, glm4v, glm46v, llava_onevision,
llava_next_video, video_llava, smolvlm, internvl.
"""

from __future__ import annotations

import sys
from pathlib import Path

HIDDEN = 32
WORDS = "A B C D E left right up down red green blue yes no the answer is seconds frame".split()
# Generic chat template: the video placeholder of the architecture, the prompt, an assistant cue.
_TEMPLATE = (
    "{% for m in messages %}{% for c in m['content'] %}"
    "{% if c['type'] == 'video' %}PLACEHOLDER{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endfor %}{% if add_generation_prompt %} ASSISTANT:{% endif %}"
)


def _text_config(model_type: str, vocab: int, **extra) -> dict:
    return {"model_type": model_type, "hidden_size": HIDDEN, "intermediate_size": 2 * HIDDEN,
            "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
            "vocab_size": vocab, "max_position_embeddings": 4096, "bos_token_id": None, "eos_token_id": 2,
            "pad_token_id": 1, **extra}  # <pad> = 1, <eos> = 2 in the tokenizer below  # fmt: skip


def _tokenizer(special: dict[str, str], plain_special: list[str]):
    """A word-level fast tokenizer: ``special`` (attribute -> token, e.g. video_token) plus
    ``plain_special`` tokens, the letters A-E and a few words; unknown words map to <unk>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<eos>"] + list(dict.fromkeys([*special.values(), *plain_special]))
    vocab = {w: i for i, w in enumerate(specials + WORDS + [str(d) for d in range(10)] + list(".:,<>()[]?"))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(),
                                                 pre_tokenizers.Digits(individual_digits=True)])  # fmt: skip
    tok.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    tok.add_special_tokens(specials)  # matched whole, before the pre-tokenizer splits on punctuation
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>", eos_token="<eos>",
                                   extra_special_tokens=special)  # fmt: skip


def _ids(tokenizer, *tokens: str) -> list[int]:
    return [tokenizer.convert_tokens_to_ids(t) for t in tokens]


def _qwen(arch: str):
    import transformers as tf

    tokens = {"image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
              "vision_start_token": "<|vision_start|>", "vision_end_token": "<|vision_end|>"}  # fmt: skip
    tokenizer = _tokenizer(tokens, [])
    image_id, video_id, start_id, end_id = _ids(tokenizer, *tokens.values())
    patch = 16 if arch == "qwen3_vl" else 14
    pixels = {"shortest_edge": (2 * patch) ** 2, "longest_edge": (4 * patch) ** 2}  # 2x2 to 4x4 patches
    vision = {"depth": 1, "hidden_size": HIDDEN, "num_heads": 2, "patch_size": patch, "spatial_merge_size": 2,
              "temporal_patch_size": 2}  # fmt: skip
    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
    if arch == "qwen2_vl":
        vision |= {"embed_dim": HIDDEN, "mlp_ratio": 2}
        config = tf.Qwen2VLConfig(text_config=_text_config("qwen2_vl_text", len(tokenizer), rope_parameters=rope),
                                  vision_config=vision)  # fmt: skip
        model_cls, proc, iproc, vproc = (tf.Qwen2VLForConditionalGeneration, tf.Qwen2VLProcessor,
                                         tf.Qwen2VLImageProcessor, tf.Qwen2VLVideoProcessor)  # fmt: skip
    elif arch == "qwen2_5_vl":
        vision |= {"intermediate_size": 2 * HIDDEN, "out_hidden_size": HIDDEN, "fullatt_block_indexes": [0],
                   "window_size": 4 * patch}  # fmt: skip
        config = tf.Qwen2_5_VLConfig(text_config=_text_config("qwen2_5_vl_text", len(tokenizer), rope_parameters=rope),
                                     vision_config=vision)  # fmt: skip
        model_cls, proc, iproc, vproc = (tf.Qwen2_5_VLForConditionalGeneration, tf.Qwen2_5_VLProcessor,
                                         tf.Qwen2VLImageProcessor, tf.Qwen2VLVideoProcessor)  # fmt: skip
    else:
        vision |= {"intermediate_size": 2 * HIDDEN, "out_hidden_size": HIDDEN, "num_position_embeddings": 16,
                   "deepstack_visual_indexes": [0]}  # fmt: skip
        rope3 = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 2, 2], "mrope_interleaved": True}
        config = tf.Qwen3VLConfig(text_config=_text_config("qwen3_vl_text", len(tokenizer), head_dim=16,
                                                           rope_parameters=rope3), vision_config=vision)  # fmt: skip
        model_cls, proc, iproc, vproc = (tf.Qwen3VLForConditionalGeneration, tf.Qwen3VLProcessor,
                                         tf.Qwen2VLImageProcessor, tf.Qwen3VLVideoProcessor)  # fmt: skip
    config.image_token_id, config.video_token_id = image_id, video_id
    config.vision_start_token_id, config.vision_end_token_id = start_id, end_id
    kw = {"patch_size": patch, "merge_size": 2, "temporal_patch_size": 2}
    vkw = {} if arch == "qwen3_vl" else {"cap_pixels_per_frame": True}  # the reference (qwen-vl-utils) behaviour
    processor = proc(image_processor=iproc(size=pixels, **kw), video_processor=vproc(size=pixels, **kw, **vkw),
                     tokenizer=tokenizer,
                     chat_template=_TEMPLATE.replace("PLACEHOLDER", "<|vision_start|><|video_pad|><|vision_end|>"))  # fmt: skip
    return model_cls(config), processor


def _glm(arch: str):
    import transformers as tf

    video_start, video_end = ("<|begin_of_video|>", "<|end_of_video|>")
    tokens = {"image_token": "<|image|>", "video_token": "<|video|>"}
    tokenizer = _tokenizer(tokens, ["<|begin_of_image|>", "<|end_of_image|>", video_start, video_end])
    ids = dict(zip(["image_token_id", "video_token_id", "image_start_token_id", "image_end_token_id",
                    "video_start_token_id", "video_end_token_id"],
                   _ids(tokenizer, "<|image|>", "<|video|>", "<|begin_of_image|>", "<|end_of_image|>",
                        video_start, video_end)))  # fmt: skip
    patch = 14
    vision = {"depth": 1, "hidden_size": HIDDEN, "num_heads": 2, "patch_size": patch, "spatial_merge_size": 2,
              "temporal_patch_size": 2, "out_hidden_size": HIDDEN, "intermediate_size": 2 * HIDDEN,
              "image_size": 4 * patch}  # fmt: skip
    rope = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 1, 1], "partial_rotary_factor": 0.5}
    text = _text_config("glm4v_text", len(tokenizer), rope_parameters=rope)
    pixels = {"shortest_edge": (2 * patch) ** 2, "longest_edge": (4 * patch) ** 2}
    kw = {"patch_size": patch, "merge_size": 2, "temporal_patch_size": 2}
    if arch == "glm4v":
        config = tf.Glm4vConfig(text_config=text, vision_config=vision, **ids)
        model_cls, proc, vproc = tf.Glm4vForConditionalGeneration, tf.Glm4vProcessor, tf.Glm4vVideoProcessor
    else:
        config = tf.Glm46VConfig(text_config=text, vision_config={"model_type": "glm4v_vision", **vision}, **ids)
        model_cls, proc, vproc = tf.Glm46VForConditionalGeneration, tf.Glm46VProcessor, tf.Glm46VVideoProcessor
    processor = proc(image_processor=tf.Glm4vImageProcessor(size=pixels, **kw), video_processor=vproc(size=pixels, **kw),
                     tokenizer=tokenizer,
                     chat_template=_TEMPLATE.replace("PLACEHOLDER", f"{video_start}<|video|>{video_end}"))  # fmt: skip
    return model_cls(config), processor


def _llava(arch: str):
    import transformers as tf

    tokenizer = _tokenizer({"image_token": "<image>", "video_token": "<video>"}, [])
    image_id, video_id = _ids(tokenizer, "<image>", "<video>")
    side, patch = 28, 14
    size = {"height": side, "width": side}
    template = _TEMPLATE.replace("PLACEHOLDER", "<video>")
    text = _text_config("qwen2" if arch == "llava_onevision" else "llama", len(tokenizer))
    if arch == "llava_onevision":
        vision = {"model_type": "siglip_vision_model", "hidden_size": HIDDEN, "intermediate_size": 2 * HIDDEN,
                  "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": side, "patch_size": patch}  # fmt: skip
        config = tf.LlavaOnevisionConfig(text_config=text, vision_config=vision, image_token_index=image_id,
                                         video_token_index=video_id, vision_feature_select_strategy="full",
                                         vision_feature_layer=-1)  # fmt: skip
        processor = tf.LlavaOnevisionProcessor(
            image_processor=tf.LlavaOnevisionImageProcessor(size=size),
            video_processor=tf.LlavaOnevisionVideoProcessor(size=size), tokenizer=tokenizer,
            num_image_tokens=(side // patch) ** 2, vision_feature_select_strategy="full", chat_template=template,
        )  # fmt: skip
        return tf.LlavaOnevisionForConditionalGeneration(config), processor
    vision = {"model_type": "clip_vision_model", "hidden_size": HIDDEN, "intermediate_size": 2 * HIDDEN,
              "num_hidden_layers": 1, "num_attention_heads": 2, "image_size": side, "patch_size": patch,
              "projection_dim": HIDDEN}  # fmt: skip
    if arch == "llava_next_video":  # its video pooler halves each side: 4 x 4 patches -> 2 x 2 tokens
        side = 56
        size = {"height": side, "width": side}
        vision |= {"image_size": side}
    crop = {"crop_size": size, "size": {"shortest_edge": side}}
    if arch == "llava_next_video":
        config = tf.LlavaNextVideoConfig(text_config=text, vision_config=vision, image_token_index=image_id,
                                         video_token_index=video_id, vision_feature_layer=-1,
                                         image_grid_pinpoints=[[side, side]])  # fmt: skip
        processor = tf.LlavaNextVideoProcessor(
            image_processor=tf.LlavaNextImageProcessor(**crop, image_grid_pinpoints=[[side, side]]),
            video_processor=tf.LlavaNextVideoVideoProcessor(**crop), tokenizer=tokenizer, patch_size=patch,
            vision_feature_select_strategy="default", num_additional_image_tokens=1, chat_template=template,
        )  # fmt: skip
        return tf.LlavaNextVideoForConditionalGeneration(config), processor
    config = tf.VideoLlavaConfig(text_config=text, vision_config=vision, image_token_index=image_id,
                                 video_token_index=video_id, vision_feature_layer=-1)  # fmt: skip
    processor = tf.VideoLlavaProcessor(
        image_processor=tf.VideoLlavaImageProcessor(**crop), video_processor=tf.VideoLlavaVideoProcessor(**crop),
        tokenizer=tokenizer, patch_size=patch, vision_feature_select_strategy="default",
        num_additional_image_tokens=1, chat_template=template,
    )  # fmt: skip
    return tf.VideoLlavaForConditionalGeneration(config), processor


def _smolvlm():
    import transformers as tf

    tokens = {"image_token": "<image>", "video_token": "<video>", "fake_image_token": "<fake_token_around_image>",
              "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>"}  # fmt: skip
    tokenizer = _tokenizer(tokens, [])
    (image_id,) = _ids(tokenizer, "<image>")
    side, patch, scale = 32, 8, 2
    seq = (side // patch) ** 2 // scale**2
    vision = {"hidden_size": HIDDEN, "intermediate_size": 2 * HIDDEN, "num_hidden_layers": 1,
              "num_attention_heads": 2, "image_size": side, "patch_size": patch}  # fmt: skip
    config = tf.SmolVLMConfig(text_config=_text_config("llama", len(tokenizer)), vision_config=vision,
                              image_token_id=image_id, scale_factor=scale)  # fmt: skip
    size = {"longest_edge": side}
    processor = tf.SmolVLMProcessor(
        image_processor=tf.SmolVLMImageProcessor(size=size, max_image_size=size, do_image_splitting=False),
        video_processor=tf.SmolVLMVideoProcessor(size=size, max_image_size=size), tokenizer=tokenizer,
        image_seq_len=seq, chat_template=_TEMPLATE.replace("PLACEHOLDER", "<video>"),
    )  # fmt: skip
    return tf.SmolVLMForConditionalGeneration(config), processor


def _internvl():
    import transformers as tf

    tokens = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
              "video_token": "<video>"}  # fmt: skip
    tokenizer = _tokenizer(tokens, [])
    (context_id,) = _ids(tokenizer, "<IMG_CONTEXT>")
    side, patch = 28, 14
    vision = {"hidden_size": HIDDEN, "intermediate_size": 2 * HIDDEN, "num_hidden_layers": 1,
              "num_attention_heads": 2, "image_size": [side, side], "patch_size": [patch, patch]}  # fmt: skip
    config = tf.InternVLConfig(vision_config=vision, text_config=_text_config("qwen2", len(tokenizer)),
                               image_token_id=context_id, image_seq_length=1, downsample_ratio=0.5)  # fmt: skip
    size = {"height": side, "width": side}
    processor = tf.InternVLProcessor(
        image_processor=tf.GotOcr2ImageProcessor(size=size, crop_to_patches=False),
        video_processor=tf.InternVLVideoProcessor(size=size), tokenizer=tokenizer, image_seq_length=1,
        chat_template=_TEMPLATE.replace("PLACEHOLDER", "<video>"),
    )  # fmt: skip
    return tf.InternVLForConditionalGeneration(config), processor


BUILDERS = {
    "qwen2_vl": lambda: _qwen("qwen2_vl"),
    "qwen2_5_vl": lambda: _qwen("qwen2_5_vl"),
    "qwen3_vl": lambda: _qwen("qwen3_vl"),
    "glm4v": lambda: _glm("glm4v"),
    "glm46v": lambda: _glm("glm46v"),
    "llava_onevision": lambda: _llava("llava_onevision"),
    "llava_next_video": lambda: _llava("llava_next_video"),
    "video_llava": lambda: _llava("video_llava"),
    "smolvlm": _smolvlm,
    "internvl": _internvl,
}
ARCHITECTURES = tuple(BUILDERS)


def build_tiny(arch: str, out: str | Path, seed: int = 0) -> Path:
    """Save a tiny random-weight ``arch`` model and its processor to ``out``; returns the directory."""
    import torch

    from synth.errors import UserError

    if arch not in BUILDERS:
        raise UserError(f"arch={arch}: allowed {', '.join(ARCHITECTURES)}")
    from transformers.utils import logging

    logging.disable_progress_bar()
    torch.manual_seed(seed)
    model, processor = BUILDERS[arch]()
    model.generation_config.pad_token_id = processor.tokenizer.pad_token_id
    model.generation_config.eos_token_id = processor.tokenizer.eos_token_id
    out = Path(out)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m synth.probe.tiny arch=NAME out=DIR [seed=0]``."""
    args = dict(a.split("=", 1) for a in (sys.argv[1:] if argv is None else argv) if "=" in a)
    if "arch" not in args or "out" not in args:
        print(f"usage: python -m synth.probe.tiny arch={'|'.join(ARCHITECTURES)} out=DIR [seed=0]", file=sys.stderr)
        return 2
    from synth.errors import UserError

    try:
        path = build_tiny(args["arch"], args["out"], int(args.get("seed", 0)))
    except UserError as exc:
        print(f"synth: error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
