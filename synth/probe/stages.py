"""Where a video-LLM is read: stages, forward hooks, the visual-token layout and grid pooling.

Stages, in model order:

* ``vision``: the vision encoder's output tokens, as they enter the projector;
* ``projector``: the projector's output, the visual tokens as the LLM receives them;
* ``llm.<i>``: the residual stream after decoder layer *i* at the last prompt position (the one
  that produces the answer), and ``llm.<i>.visual``: its mean over the visual-token positions;
* any module named in ``probe.modules`` (``module:<name>``): its output, read like an LLM layer
  when it is a sequence over the prompt, else averaged over its tokens.

``vision`` and ``projector`` keep *where and when*: their tokens are laid out as
(frames, rows, columns) from the architecture's token order (Qwen/GLM merge windows and temporal
patches, LLaVA-style per-frame grids) and average-pooled to ``pool`` = (time bins, rows, columns).

Hooks are plain ``torch`` forward hooks: they read a tensor during the model's own forward pass
and change nothing; the first pass of ``generate`` (the prompt) is the one recorded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synth.errors import UserError

# model_type -> (vision module, read its "input" or "output", projector module, token layout)
# "grid": rows in Qwen/GLM order (t, h/m, w/m, m, m) from ``video_grid_thw``; "frames": one
# square grid of tokens per frame (a leading CLS-like token is dropped).
SPECS: dict[str, tuple[str, str, str, str]] = {
    "qwen2_vl": ("visual.merger", "input", "visual.merger", "grid"),
    "qwen2_5_vl": ("visual.merger", "input", "visual.merger", "grid"),
    "qwen3_vl": ("visual.merger", "input", "visual.merger", "grid"),
    "glm4v": ("visual.post_layernorm", "output", "visual.merger", "grid"),
    "glm46v": ("visual.post_layernorm", "output", "visual.merger", "grid"),
    "llava_onevision": ("multi_modal_projector", "input", "multi_modal_projector", "frames"),
    "llava_next_video": ("multi_modal_projector", "input", "multi_modal_projector", "frames"),
    "video_llava": ("multi_modal_projector", "input", "multi_modal_projector", "frames"),
    "internvl": ("multi_modal_projector", "input", "multi_modal_projector", "frames"),
    "smolvlm": ("connector", "input", "connector", "frames"),
}


@dataclass(frozen=True)
class Stage:
    """One place read in the model: ``kind`` is ``vision``, ``projector``, ``llm`` (last position),
    ``llm_visual`` (mean over visual positions) or ``module``."""

    name: str
    kind: str
    module: str
    read: str = "output"  # "input" or "output" of ``module``
    layer: int = -1


def find_module(model, name: str, key: str = "probe"):
    """The one submodule called ``name`` or ending in ``.name``; errors name ``<key>.modules``."""
    hits = [(n, m) for n, m in model.named_modules() if n == name or n.endswith("." + name)]
    if len(hits) != 1:
        found = "none" if not hits else ", ".join(n for n, _ in hits[:4])
        raise UserError(f"{key}.modules: module '{name}' must match exactly one module of the model (found {found})")
    return hits[0]


def decoder_layers(model) -> tuple[str, list]:
    """(dotted name, layers) of the language model's decoder layers; ("", []) when not found."""
    text_config = getattr(model.config, "text_config", model.config)
    n_layers = getattr(text_config, "num_hidden_layers", None)
    best = ("", [])
    for name, module in model.named_modules():
        if not name.endswith("layers") or not hasattr(module, "__len__"):
            continue
        if any(part in name for part in ("visual", "vision", "video_tower", "image_tower")):
            continue
        if len(module) == n_layers and ("language_model" in name or "text_model" in name or not best[0]):
            best = (name, list(module))
    return best


def resolve_stages(model, stages, modules: list[str], per_cell: bool = False, key: str = "probe") -> list[Stage]:
    """The stages to read: ``stages`` is ``"auto"`` or a list of names (vision, projector, llm.<i>).

    ``per_cell`` (geometry targets): only stages with one reading per visual token (vision,
    projector, ``llm.<i>.visual``). ``key``: the command's config group, named in errors
    (``probe.stages``, ``patch.stages``)."""
    spec = SPECS.get(getattr(model.config, "model_type", ""))
    layers_name, layers = decoder_layers(model)
    available: list[Stage] = []
    if spec:
        vision_module, read, projector_module, _ = spec
        available.append(Stage("vision", "vision", find_module(model, vision_module)[0], read))
        available.append(Stage("projector", "projector", find_module(model, projector_module)[0], "output"))
    for i in range(len(layers)):
        available.append(Stage(f"llm.{i}", "llm", f"{layers_name}.{i}", layer=i))
        available.append(Stage(f"llm.{i}.visual", "llm_visual", f"{layers_name}.{i}", layer=i))
    if stages == "auto" or stages == ["auto"]:
        chosen = available
    else:
        by_name = {s.name: s for s in available}
        chosen = []
        for name in stages:
            name = str(name)
            if name not in by_name:
                allowed = ", ".join(["vision", "projector"] if spec else []) + (f", llm.0..llm.{len(layers) - 1}" if layers else "")
                raise UserError(f"{key}.stages={name}: not a stage of this model; allowed auto or {allowed.strip(', ') or f'none (use {key}.modules)'}")
            chosen.append(by_name[name])
            if name.startswith("llm.") and not name.endswith(".visual"):
                chosen.append(by_name[name + ".visual"])
    if per_cell:
        if modules:
            raise UserError("probe.modules: not read for gt targets (no token layout is known for them)")
        if not spec:
            raise UserError(f"probe.target: gt targets need a known token layout; model_type {getattr(model.config, 'model_type', '?')} has none")
        chosen = list(dict.fromkeys(s for s in chosen if s.kind != "llm"))
    chosen += [Stage(f"module:{m}", "module", find_module(model, m, key)[0]) for m in modules]
    if not chosen:
        raise UserError(
            f"{key}.stages: no known stages for model_type {getattr(model.config, 'model_type', '?')}; "
            f"name modules to read with {key}.modules=[dotted.module.name,...]"
        )
    return chosen


def _first_tensor(value):
    import torch

    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, dict) or hasattr(value, "to_tuple"):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for v in value:
            t = _first_tensor(v)
            if t is not None:
                return t
    return None


class Recorder:
    """Forward hooks on ``stages``' modules; while ``armed`` they keep every call's tensor on the
    CPU, except decoder layers: from their first call (the prompt's pass) they keep only what
    the stages read (the last position and the visual-token mean; every visual token with
    ``visual_tokens``), computed where the layer runs, so a long prompt costs no copy of it."""

    def __init__(self, model, stages: list[Stage], visual_tokens: bool = False):
        self.records: dict[tuple[str, str], list] = {}
        self._handles = []
        self._layer_keys = {(s.module, s.read) for s in stages if s.kind in ("llm", "llm_visual")}
        self._visual_tokens = visual_tokens
        self.visual_mask = None
        modules = dict(model.named_modules())
        keys = {(s.module, s.read) for s in stages}
        spec = SPECS.get(getattr(model.config, "model_type", ""))
        if spec and any(s.kind == "llm_visual" for s in stages):  # the LLM's visual tokens follow its layout
            keys.add((find_module(model, spec[2])[0], "output"))
        for key in keys:
            name, read = key
            module = modules[name]
            if read == "input":
                hook = module.register_forward_pre_hook(self._hook(key), with_kwargs=True)
            else:
                hook = module.register_forward_hook(self._hook(key), with_kwargs=True)
            self._handles.append(hook)
        self.armed = False

    def _hook(self, key):
        def hook(module, args, kwargs, output=None):
            if not self.armed:
                return None
            value = output if key[1] == "output" else (args if args else tuple(kwargs.values()))
            tensor = _first_tensor(value)
            if tensor is None:
                return None
            if key not in self._layer_keys:
                self.records.setdefault(key, []).append(tensor.detach().float().cpu())
            elif key not in self.records:  # later calls are decoding steps
                hidden = tensor.detach()[0]  # (L, D): one sequence
                mask = self.visual_mask.to(hidden.device)
                visual = hidden[mask].float()
                reading = {"last": hidden[-1].float().cpu(), "visual_mean": visual.mean(0).cpu() if len(visual) else None}
                if self._visual_tokens:
                    reading["visual"] = visual.cpu()
                self.records[key] = [reading]
            return None

        return hook

    def first_pass(self, visual_mask) -> None:
        """Record from the next forward pass (the prompt's, when ``generate`` runs);
        ``visual_mask``: (L,) bool, the prompt's visual-token positions."""
        self.records = {}
        self.visual_mask = visual_mask
        self.armed = True

    def remove(self) -> None:
        for h in self._handles:
            h.remove()


def grid_layout(tokens, grid_thw, merge: int, merged: bool, unit_order=None):
    """Qwen/GLM visual tokens to (t, h, w, D).

    Args:
        tokens: (N, D) rows in processor order (t, h/m, w/m, m, m) (``merged``: (t, h/m, w/m)).
        grid_thw: (t, h, w) in patches.
        merge: spatial merge size m.
        merged: rows are merged units (a projector output) rather than patches.
        unit_order: optional permutation of merged units in which the rows arrive (Qwen2.5-VL's
            window order); they are put back in raster order.
    """
    import torch

    t, h, w = (int(v) for v in grid_thw)
    d = tokens.shape[-1]
    per_unit = 1 if merged else merge * merge
    if unit_order is not None:
        units = tokens.reshape(-1, per_unit, d)
        restored = torch.empty_like(units)
        restored[torch.as_tensor(unit_order)] = units
        tokens = restored.reshape(-1, d)
    if merged:
        return tokens.reshape(t, h // merge, w // merge, d)
    x = tokens.reshape(t, h // merge, w // merge, merge, merge, d).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(t, h, w, d)


def frames_layout(tokens):
    """Per-frame token grids to (frames, side, side, D); a leading non-grid token is dropped.

    Args:
        tokens: (F, P, D) with P or P - 1 a square, or (P, D) for one frame.
    """
    if tokens.ndim == 2:
        tokens = tokens[None]
    f, p, d = tokens.shape
    side = math.isqrt(p)
    if side * side != p:
        side = math.isqrt(p - 1)
        if side * side != p - 1:
            raise UserError(f"probe: cannot lay out {p} tokens per frame as a square grid")
        tokens = tokens[:, 1:]
    return tokens.reshape(f, side, side, d)


def pool_grid(grid, pool: tuple[int, int, int], cells: bool = False) -> np.ndarray:
    """Average-pool (t, h, w, D) tokens to ``pool`` = (time bins, rows, columns).

    Returns float16 (bins*rows*cols*D,), or (bins*rows*cols, D) with ``cells``."""
    import torch

    x = grid.permute(3, 0, 1, 2)[None]  # (1, D, t, h, w)
    pooled = torch.nn.functional.adaptive_avg_pool3d(x, pool)[0].permute(1, 2, 3, 0)
    shape = (-1, grid.shape[-1]) if cells else (-1,)
    return pooled.reshape(*shape).numpy().astype(np.float16)


def llm_visual_grid(hidden, projector_grid):
    """The LLM's visual-token hidden states (N, D) laid out like the projector's (t, h, w, D)
    output; LLaVA-OneVision pools each frame 2 x 2 after its projector and appends one newline
    token, so a per-frame square grid after dropping the last token is accepted too."""
    t, h, w, _ = projector_grid.shape
    n, d = hidden.shape
    if n == t * h * w:
        return hidden.reshape(t, h, w, d)
    per_frame = (n - 1) // t if (n - 1) % t == 0 else 0
    side = math.isqrt(per_frame)
    if per_frame and side * side == per_frame:
        return hidden[:-1].reshape(t, side, side, d)
    raise UserError(f"probe: {n} visual tokens in the LLM do not map onto the projector's {t}x{h}x{w} grid")


def _qwen25_unit_order(model, grid_thw):
    """Qwen2.5-VL's window order of merged units (the order its merger sees them in)."""
    visual = find_module(model, "visual")[1]
    grid = grid_thw[None].to(next(visual.parameters()).device)
    if hasattr(visual, "get_window_index"):  # transformers 4.x
        return visual.get_window_index(grid)[0].cpu()
    from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import get_vision_window_index

    window_index, _ = get_vision_window_index(grid, spatial_merge_size=visual.spatial_merge_size,
                                              window_size=visual.window_size, patch_size=visual.patch_size, kwargs={})  # fmt: skip
    return window_index.cpu()


def stage_features(model, stages: list[Stage], recorder: Recorder, inputs, pool: tuple[int, int, int],
                   cells: bool = False) -> dict[str, np.ndarray]:  # fmt: skip
    """Each stage's feature vector (float16) from the tensors ``recorder`` kept in one pass;
    ``cells``: one vector per pooled cell, (cells, D), for vision, projector and llm.<i>.visual."""
    import torch

    model_type = getattr(model.config, "model_type", "")
    spec = SPECS.get(model_type)
    n_tokens = inputs["input_ids"].shape[1]

    def visual_grid(kind: str, calls):
        tokens = torch.cat([c.reshape(-1, *c.shape[-2:]) if c.ndim > 2 else c for c in calls], dim=0)
        if spec[3] == "grid":
            grid_thw = inputs["video_grid_thw"][0].cpu()
            merge = model.config.vision_config.spatial_merge_size
            order = _qwen25_unit_order(model, grid_thw) if model_type == "qwen2_5_vl" else None
            return grid_layout(tokens.reshape(-1, tokens.shape[-1]), grid_thw, merge, kind == "projector", order)
        return frames_layout(tokens)

    out = {}
    for stage in stages:
        calls = recorder.records.get((stage.module, stage.read))
        if not calls:
            raise UserError(f"probe: stage {stage.name} ({stage.module}) was not run by the model's forward pass")
        if stage.kind in ("vision", "projector"):
            out[stage.name] = pool_grid(visual_grid(stage.kind, calls), pool, cells)
            continue
        reading = calls[0]  # the prompt's pass
        if stage.kind == "module":
            sequence = reading.ndim == 3 and reading.shape[1] == n_tokens
            vector = reading[0, -1] if sequence else reading.reshape(-1, reading.shape[-1]).mean(0)
        elif stage.kind == "llm":
            vector = reading["last"]
        elif reading["visual_mean"] is None:
            raise UserError("probe: no visual-token positions found in the prompt")
        elif cells:
            projector = visual_grid("projector", recorder.records[(find_module(model, spec[2])[0], "output")])
            out[stage.name] = pool_grid(llm_visual_grid(reading["visual"], projector), pool, cells=True)
            continue
        else:
            vector = reading["visual_mean"]
        out[stage.name] = vector.numpy().astype(np.float16)
    return out


def visual_token_ids(model, processor) -> list[int]:
    """Token ids that stand for visual tokens in the prompt (video and image placeholders)."""
    ids = set()
    for holder in (model.config, processor):
        for attr in ("video_token_id", "image_token_id", "video_token_index", "image_token_index"):
            value = getattr(holder, attr, None)
            if isinstance(value, int) and value >= 0:
                ids.add(value)
    return sorted(ids)
