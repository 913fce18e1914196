"""Sensor: exposure, photon shot noise, dark current, read and row noise, full-well clipping, ADC.

Source: EMVA Standard 1288 (linear sensor model, photon transfer); Janesick 2007,
"Photon Transfer: DN → λ". In linear light the variance of a flat patch grows linearly
with its mean (slope = conversion gain), which the tests check.
"""

from __future__ import annotations

import torch

# Above this many electrons Poisson(λ) is drawn as N(λ, λ): same mean and variance
# (so photon transfer is exact), skew 1/√λ ≤ 0.1, and ~10x faster than torch.poisson.
_GAUSS_ABOVE_E = 100.0


def shot_noise(electrons: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Photon/dark shot noise: a Poisson draw with mean ``electrons`` (any shape, float32, >= 0)."""
    noisy = electrons + electrons.sqrt() * torch.randn(
        electrons.shape, generator=generator, device=generator.device
    ).to(electrons.device)
    low = electrons < _GAUSS_ABOVE_E
    if low.any():
        lam = electrons[low]
        if generator.device != lam.device:
            noisy[low] = torch.poisson(lam.to(generator.device), generator=generator).to(lam.device)
        else:
            noisy[low] = torch.poisson(lam, generator=generator)
    return noisy


def low_light(
    video: torch.Tensor,
    ev: float = 0.0,
    full_well_e: float = 6000.0,
    read_noise_e: float = 0.0,
    row_noise_e: float = 0.0,
    dark_current_e: float = 0.0,
    bits: int = 12,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Expose the scene ``ev`` stops off nominal, read it out through a noisy sensor, gain back.

    ``video``: (T, 3, H, W) float32 linear, scene-referred (1.0 = diffuse white, which at ev = 0
    exactly fills the well). Steps, per pixel and channel: electrons = video · 2^ev · ``full_well_e``
    plus ``dark_current_e`` (mean e⁻ per exposure), Poisson shot noise on both (always: it is the
    light's own statistics), clip at the full well, add Gaussian read noise (σ ``read_noise_e`` e⁻) and
    row noise (σ ``row_noise_e`` e⁻, one offset per row per frame), quantise with a ``bits``-bit ADC
    spanning 0..full well. Then the camera's digital gain 2^−ev restores the brightness of an
    underexposed frame (ev < 0); an overexposed one (ev > 0) stays bright with clipped highlights.
    Returns (T, 3, H, W) float32 linear.
    """
    gen = generator or torch.Generator().manual_seed(0)
    e = video.clamp_min(0) * (2.0**ev * full_well_e) + dark_current_e
    e = shot_noise(e, gen).clamp(max=full_well_e)
    t, c, h, w = video.shape

    def gauss(*shape: int) -> torch.Tensor:
        return torch.randn(shape, generator=gen, device=gen.device).to(video.device)

    if read_noise_e > 0:
        e = e + read_noise_e * gauss(t, c, h, w)
    if row_noise_e > 0:
        e = e + row_noise_e * gauss(t, 1, h, 1)
    levels = 2**bits - 1
    dn = (e * (levels / full_well_e)).round().clamp(0, levels)
    return dn * (2.0 ** -min(ev, 0.0) / levels)
