"""Running a checkpoint at another image size: resize its position tensors the way the official loader does.

Relative position bias (BEiT-style, as the official VLMo loader): only the image part of the table (the first
(2W-1)^2 rows) depends on the image size; the rows after it (the [I_CLS] slots, text<->image and the text part)
are kept. Each head's (2W-1) x (2W-1) grid of offsets is resampled at integer offsets of the new grid, with the
source offsets spread on a geometric progression so that the old grid spans the new one. The official code uses
scipy's interp2d(kind='cubic') on the rectangular grid, i.e. FITPACK's interpolating bicubic spline with knots at
the interior data points but the second and the second-to-last (the "not-a-knot" spline); it is separable on a
grid, so it is computed here as two 1-D not-a-knot cubic spline passes (numpy only, no scipy), clamping the
evaluation points to the data range as FITPACK does.

Absolute position embedding (base-plus): bicubic resize of the patch grid (torch, align_corners=False), the
[I_CLS] row kept — the usual ViT/BEiT recipe.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _not_a_knot_matrix(x: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """M with spline(xq) = M @ y for the not-a-knot cubic spline through (x, y): built by interpolating the
    unit vectors (the spline is linear in y)."""
    n = len(x)
    if n < 4:
        raise ValueError('cubic spline interpolation needs at least 4 points per axis')
    h = np.diff(x)
    # Unknowns: second derivatives m_0..m_{n-1}. Interior rows: continuity of the first derivative.
    a = np.zeros((n, n))
    rhs_of_y = np.zeros((n, n))   # rhs = rhs_of_y @ y
    for i in range(1, n - 1):
        a[i, i - 1] = h[i - 1] / 6
        a[i, i] = (h[i - 1] + h[i]) / 3
        a[i, i + 1] = h[i] / 6
        rhs_of_y[i, i - 1] = 1 / h[i - 1]
        rhs_of_y[i, i] = -1 / h[i - 1] - 1 / h[i]
        rhs_of_y[i, i + 1] = 1 / h[i]
    # Not-a-knot: the third derivative is continuous at x_1 and x_{n-2}.
    a[0, 0], a[0, 1], a[0, 2] = h[1], -(h[0] + h[1]), h[0]
    a[-1, -3], a[-1, -2], a[-1, -1] = h[-1], -(h[-2] + h[-1]), h[-2]
    m_of_y = np.linalg.solve(a, rhs_of_y)       # m = m_of_y @ y
    xq = np.clip(xq, x[0], x[-1])
    seg = np.clip(np.searchsorted(x, xq, side='right') - 1, 0, n - 2)
    out = np.zeros((len(xq), n))
    for r, (q, s) in enumerate(zip(xq, seg)):
        hs = h[s]
        t1, t0 = (x[s + 1] - q), (q - x[s])
        # S(q) = m_s t1^3/(6h) + m_{s+1} t0^3/(6h) + (y_s - m_s h^2/6) t1/h + (y_{s+1} - m_{s+1} h^2/6) t0/h
        out[r, s] += t1 / hs
        out[r, s + 1] += t0 / hs
        out[r] += m_of_y[s] * (t1 ** 3 / (6 * hs) - hs * t1 / 6)
        out[r] += m_of_y[s + 1] * (t0 ** 3 / (6 * hs) - hs * t0 / 6)
    return out


def spline_resample_grid(z: np.ndarray, x: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """Bicubic not-a-knot spline through z[j, i] = f(x_i, x_j), evaluated on the grid xq x xq."""
    m = _not_a_knot_matrix(np.asarray(x, dtype=np.float64), np.asarray(xq, dtype=np.float64))
    return m @ z.astype(np.float64) @ m.T


def _source_offsets(src_size: int, dst_size: int) -> np.ndarray:
    """The official geometric spread of the source offsets (q found by bisection)."""
    def progression(a: float, r: float, n: int) -> float:
        return a * (1.0 - r ** n) / (1.0 - r)

    left, right = 1.01, 1.5
    while right - left > 1e-6:
        q = (left + right) / 2.0
        if progression(1, q, src_size // 2) > dst_size // 2:
            right = q
        else:
            left = q
    dis, cur = [], 1.0
    for i in range(src_size // 2):
        dis.append(cur)
        cur += q ** (i + 1)
    return np.array([-d for d in reversed(dis)] + [0.0] + dis)


def resize_relative_position_table(table: torch.Tensor, src_window: int, dst_window: int) -> torch.Tensor:
    """[R_src, H*L] -> [R_dst, H*L]: the image part resampled, the extra rows after it kept."""
    src_size, dst_size = 2 * src_window - 1, 2 * dst_window - 1
    if src_size == dst_size:
        return table
    extra = table[src_size * src_size:]
    image = table[: src_size * src_size].double().numpy()
    x = _source_offsets(src_size, dst_size)
    t = dst_size // 2.0
    xq = np.arange(-t, t + 0.1, 1.0)
    m = _not_a_knot_matrix(x, xq)
    cols = []
    for c in range(image.shape[1]):
        grid = image[:, c].reshape(src_size, src_size)
        cols.append((m @ grid @ m.T).reshape(-1))
    resized = torch.from_numpy(np.stack(cols, axis=1)).to(table.dtype)
    return torch.cat([resized, extra], dim=0)


def resize_pos_embed(pos_embed: torch.Tensor, dst_window: int) -> torch.Tensor:
    """[1, W*W+1, D] -> [1, W'*W'+1, D] (bicubic on the patch grid, [I_CLS] row kept)."""
    n = pos_embed.shape[1] - 1
    src_window = int(round(n ** 0.5))
    if src_window == dst_window:
        return pos_embed
    cls, grid = pos_embed[:, :1], pos_embed[:, 1:]
    d = grid.shape[-1]
    grid = grid.reshape(1, src_window, src_window, d).permute(0, 3, 1, 2).float()
    grid = F.interpolate(grid, size=(dst_window, dst_window), mode='bicubic', align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, dst_window * dst_window, d).to(pos_embed.dtype)
    return torch.cat([cls, grid], dim=1)
