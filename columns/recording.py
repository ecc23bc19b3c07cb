"""``Recording``: a simulated trajectory with named fields, node labels and the config.

Fields are ``(T, B, N)`` for column fields (NaN where a column's type lacks the field) and
``(T, B, E)`` for learnable-edge fields (``W``, ``p_W``). ``to_xarray()`` gives a Dataset with
dims (time, batch, node|edge) (complex fields as ``name__re``/``name__im``); ``save`` writes
NetCDF atomically (temp file + rename);
``load`` reads it back.

Shapes: t (T,); fields as above.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import torch

from graphs.errors import FieldError, RecordingError

from .atomic import atomic_write


def write_netcdf(ds, path) -> str:
    """Write an ``xarray.Dataset`` to NetCDF atomically (temp file in the same folder, then
    ``os.replace``); return the path."""
    return atomic_write(path, ds.to_netcdf, suffix=".nc.tmp")


@dataclass
class Recording:
    """A trajectory. ``status`` is "complete" or "diverged" (then ``message`` says where)."""

    t: torch.Tensor
    fields: dict[str, torch.Tensor]
    node_labels: list[str]
    node_types: list[str]
    regions: list[str]
    edge_source: list[str] = field(default_factory=list)
    edge_target: list[str] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    status: str = "complete"
    message: str = ""

    def __getitem__(self, name: str) -> torch.Tensor:
        try:
            return self.fields[name]
        except (KeyError, TypeError):
            raise FieldError(f"the recording has no field {name!r}; fields: {sorted(self.fields)}"
                             ) from None

    def __len__(self) -> int:
        return int(self.t.numel())

    def states(self, network) -> torch.Tensor:
        """Full states of ``network`` rebuilt from a recording of every field. Shapes: (T, B, S).

        Returns:
            The states (T, B, S) of ``network``, fields not recorded set to 0.
        """
        T, B = len(self), next(iter(self.fields.values())).shape[1]
        y = torch.zeros(T, B, network.state_size, dtype=network.dtype)
        for name, f, start, n in network.layout.blocks:
            y[:, :, start:start + n] = self.fields[f][:, :, network.coupling.type_slices[name]]
        if network.layout.n_learnable:
            (a, m), (b, _) = network.layout.edge_W, network.layout.edge_P
            y[:, :, a:a + m] = self.fields["W"]
            y[:, :, b:b + m] = self.fields["p_W"]
        return y

    def to_xarray(self):
        """An ``xarray.Dataset`` (dims time, batch, node, edge; coords labels, types, regions).

        Returns:
            An ``xarray.Dataset``: one variable per field (time, batch, node) or (time, batch,
            edge),
            coordinates time, labels, types and regions, the config and diagnostics as attributes.
        """
        import xarray as xr
        data = {}
        for name, v in self.fields.items():
            dim = "edge" if name in ("W", "p_W") else "node"
            v = v.detach().cpu()
            if v.is_complex():   # NetCDF has no complex type: store real and imaginary parts
                data[name + "__re"] = (("time", "batch", dim), v.real.numpy())
                data[name + "__im"] = (("time", "batch", dim), v.imag.numpy())
            else:
                data[name] = (("time", "batch", dim), v.numpy())
        coords = {"time": self.t.detach().cpu().numpy(),
                  "node": np.array(self.node_labels, dtype=object),
                  "node_type": ("node", np.array(self.node_types, dtype=object)),
                  "region": ("node", np.array(self.regions, dtype=object))}
        if any(n in self.fields for n in ("W", "p_W")):
            coords["edge_source"] = ("edge", np.array(self.edge_source, dtype=object))
            coords["edge_target"] = ("edge", np.array(self.edge_target, dtype=object))
        attrs = {"config": json.dumps(self.config, default=str), "status": self.status,
                 "message": self.message}
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def save(self, path) -> str:
        """Write NetCDF atomically: a temp file in the same folder, then ``os.replace``.

        Returns:
            The path written.

        Raises:
            OutputError: the folder cannot be written (the target is named).
        """
        return write_netcdf(self.to_xarray(), path)

    @classmethod
    def load(cls, path) -> "Recording":
        """Read a Recording written by ``save``.

        Returns:
            The ``Recording`` as it was saved.

        Raises:
            RecordingError: no such file, a file that is not NetCDF, or NetCDF that is not a
                recording.
        """
        import xarray as xr
        if not os.path.isfile(path):
            raise RecordingError(f"Recording.load: no such file {os.fspath(path)!r}")
        try:
            ds = xr.open_dataset(path)
        except (OSError, ValueError, RuntimeError) as err:
            raise RecordingError(f"Recording.load: {os.fspath(path)!r} is not a readable NetCDF "
                                 f"file ({type(err).__name__}: {err})") from None
        with ds:
            missing = [k for k in ("time", "node", "node_type", "region") if k not in ds.variables]
            if missing:
                raise RecordingError(f"Recording.load: {os.fspath(path)!r} is NetCDF but not a "
                                     f"Recording (no {missing}; it has {sorted(ds.variables)[:8]})")
            ds.load()
            fields = {}
            for k in ds.data_vars:
                v = torch.from_numpy(np.array(ds[k].values))
                if k.endswith("__re"):
                    fields[k[:-4]] = torch.complex(v, torch.from_numpy(np.array(ds[k[:-4] + "__im"].values)))
                elif not k.endswith("__im"):
                    fields[k] = v
            has_edges = "edge_source" in ds.coords
            return cls(
                t=torch.from_numpy(np.array(ds["time"].values)),
                fields=fields,
                node_labels=[str(v) for v in ds["node"].values],
                node_types=[str(v) for v in ds["node_type"].values],
                regions=[str(v) for v in ds["region"].values],
                edge_source=[str(v) for v in ds["edge_source"].values] if has_edges else [],
                edge_target=[str(v) for v in ds["edge_target"].values] if has_edges else [],
                config=json.loads(ds.attrs.get("config", "{}")),
                status=str(ds.attrs.get("status", "complete")),
                message=str(ds.attrs.get("message", "")))
