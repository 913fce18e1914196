"""Record a run's stage activations and put another run's in their place.

A :class:`Patcher` hooks the modules of :func:`synth.probe.stages.resolve_stages`' stages with
plain ``torch`` forward hooks (pre-hooks where a stage reads a module's input). In ``record``
mode they keep, per stage, what a patch replaces:

* ``vision``, ``projector``, ``module:<name>``: the whole tensor of every call (the visual
  tokens of the clip, in the module's own layout);
* ``llm.<i>``: decoder layer *i*'s output (the residual stream) at the last position, (D,);
* ``llm.<i>.visual``: the same output at the visual-token positions, (N_visual, D).

In ``patch`` mode the hooks write a donor's recording into the running pass at exactly those
places and leave every other value alone. Donor and recipient must share the token layout
(paired clips: same size, same sampled frames, same prompt).
"""

from __future__ import annotations

from synth.errors import UserError
from synth.probe.stages import Stage


def _first_tensor_path(value, path=()):
    """Index path to the first tensor inside nested tuples/lists/dicts (a ModelOutput is a dict)."""
    import torch

    if isinstance(value, torch.Tensor):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _first_tensor_path(item, (*path, key))
        if found is not None:
            return found
    return None


def _get(value, path):
    for key in path:
        value = value[key]
    return value


def _put(value, path, tensor):
    """``value`` with the item at ``path`` replaced (tuples rebuilt, dicts updated in place)."""
    if not path:
        return tensor
    key, rest = path[0], path[1:]
    if isinstance(value, tuple):
        return tuple(_put(v, rest, tensor) if i == key else v for i, v in enumerate(value))
    value[key] = _put(value[key], rest, tensor)
    return value


class Patcher:
    """Forward hooks on ``stages``' modules; see the module docstring.

    ``visual_mask``: (L,) bool, the visual-token positions of the prompt (every run patched
    against another shares it)."""

    def __init__(self, model, stages: list[Stage], visual_mask):
        self.stages = stages
        self.visual_mask = visual_mask
        self.mode = "off"
        self.recording: dict[str, list] = {}
        self.donor: dict[str, list] = {}
        self._calls: dict[tuple[str, str], int] = {}
        self._handles = []
        modules = dict(model.named_modules())
        by_key: dict[tuple[str, str], list[Stage]] = {}
        for stage in stages:
            by_key.setdefault((stage.module, stage.read), []).append(stage)
        for key, keyed in by_key.items():
            module = modules[key[0]]
            if key[1] == "input":
                handle = module.register_forward_pre_hook(self._pre_hook(key, keyed), with_kwargs=True)
            else:
                handle = module.register_forward_hook(self._hook(key, keyed), with_kwargs=True)
            self._handles.append(handle)

    def start(self, mode: str, donor: dict[str, list] | None = None) -> None:
        """Arm the hooks for the next forward pass: ``record`` (into ``recording``) or ``patch``
        (``donor``: stage name -> a recording's entry, for the stages to replace; others untouched)."""
        self.mode, self.donor, self.recording, self._calls = mode, donor or {}, {}, {}

    def _apply(self, key, stages: list[Stage], tensor):
        """Record ``tensor``'s stage readings, or return it with the donor's written in (else None)."""
        call = self._calls.get(key, 0)
        self._calls[key] = call + 1
        patched = None
        for stage in stages:
            if stage.kind in ("llm", "llm_visual") and call > 0:  # a layer is read on its first call only
                continue
            mask = self.visual_mask.to(tensor.device)
            if self.mode == "record":
                if stage.kind == "llm":
                    reading = tensor[0, -1].detach().clone()
                elif stage.kind == "llm_visual":
                    reading = tensor[0, mask].detach().clone()
                else:
                    reading = tensor.detach().clone()
                self.recording.setdefault(stage.name, []).append(reading)
            elif self.mode == "patch" and stage.name in self.donor:
                donor = self.donor[stage.name][0 if stage.kind in ("llm", "llm_visual") else call]
                patched = tensor.clone() if patched is None else patched
                target = (patched[0, -1] if stage.kind == "llm" else patched[0, mask] if stage.kind == "llm_visual"
                          else patched)  # fmt: skip
                if target.shape != donor.shape:
                    raise UserError(f"patch: stage {stage.name} is {tuple(donor.shape)} in the donor and "
                                    f"{tuple(target.shape)} in the recipient; paired clips must share size and frames")  # fmt: skip
                donor = donor.to(patched.device, patched.dtype)
                if stage.kind == "llm":
                    patched[0, -1] = donor
                elif stage.kind == "llm_visual":
                    patched[0, mask] = donor
                else:
                    patched = donor.clone()
        return patched

    def _hook(self, key, stages):
        def hook(module, args, kwargs, output):
            if self.mode == "off":
                return None
            path = _first_tensor_path(output)
            if path is None:
                return None
            patched = self._apply(key, stages, _get(output, path))
            return None if patched is None else _put(output, path, patched)

        return hook

    def _pre_hook(self, key, stages):
        def hook(module, args, kwargs):
            if self.mode == "off":
                return None
            value = (args, kwargs)
            path = _first_tensor_path(value)
            if path is None:
                return None
            patched = self._apply(key, stages, _get(value, path))
            if patched is None:
                return None
            new_args, new_kwargs = _put((tuple(args), dict(kwargs)), path, patched)
            return new_args, new_kwargs

        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
