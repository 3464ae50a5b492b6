"""Configuration as data: dataclasses validated when they are made.

Every invalid value is refused at construction with one sentence that says
what to change (the frozen-network paper's own code accepts a sparsity below
the pruning ratio and then silently searches nothing).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from .errors import ConfigError
from .freezing import LAYERWISE_RULES, position_search_space
from .initialization import WEIGHT_INITS

SCOPES: tuple[str, ...] = ("global", "layer")


def check_choice(field: str, value: str, choices: tuple[str, ...]) -> None:
    """Refuse a name that is not among the valid ones, listing them."""
    if value not in choices:
        raise ConfigError(f"unknown {field} {value!r}: choose one of {', '.join(choices)}.")


def check_ratio(field: str, value: float, *, closed_above: bool = True) -> None:
    """Refuse a ratio outside [0, 1] (or [0, 1) when ``closed_above`` is false)."""
    ok = 0.0 <= value <= 1.0 if closed_above else 0.0 <= value < 1.0
    if not ok:
        upper = "1" if closed_above else "1 (exclusive)"
        raise ConfigError(f"{field} must be between 0 and {upper}, got {value:g}.")


@dataclass(frozen=True)
class TicketConfig:
    """What to search: the sparsity of the ticket and how the source is frozen.

    Give either ``prune``/``lock`` or ``freeze`` (then the pruning and locking
    ratios are placed by the paper's centring rule); leaving all three unset
    searches a dense random network.
    """

    sparsity: float = 0.5
    """k: fraction of the weights removed from the whole network."""
    prune: float | None = None
    """p: fraction of weights pruned at initialisation (never in the ticket)."""
    lock: float | None = None
    """r: fraction of weights locked at initialisation (always in the ticket)."""
    freeze: float | None = None
    """f = p + r, with p and r positioned around the sparsity."""
    layerwise: str = "epl"
    """Layer-wise rule for the frozen and (with scope='layer') kept counts (EPL: equal per layer)."""
    scope: str = "global"
    """'global': one top-k over all searchable scores; 'layer': one per layer."""
    weights: str = "kaiming_uniform"
    """How the random weights are drawn (signed_constant: the Kaiming standard deviation with random signs)."""
    seed: int = 0
    """Seed of every random tensor of the network (weights, freezing masks, scores). Inside a
    :class:`RunConfig`, left at 0 it takes the run's seed, and any other value must equal it."""

    def __post_init__(self) -> None:
        check_ratio("sparsity", self.sparsity, closed_above=False)
        for name in ("prune", "lock", "freeze"):
            value = getattr(self, name)
            if value is not None:
                check_ratio(name, value)
        if self.freeze is not None and (self.prune is not None or self.lock is not None):
            raise ConfigError("give either freeze or prune/lock, not both: freeze places prune and lock itself.")
        check_choice("layer-wise rule", self.layerwise, LAYERWISE_RULES)
        check_choice("scope", self.scope, SCOPES)
        check_choice("weight initialisation", self.weights, WEIGHT_INITS)
        p, r = self.ratios
        if p + r > 1.0 + 1e-12:
            raise ConfigError(
                f"prune + lock = {p + r:g} exceeds 1: at most the whole network can be frozen; lower prune or lock."
            )
        if not p - 1e-12 <= self.sparsity <= 1.0 - r + 1e-12:
            raise ConfigError(
                f"sparsity {self.sparsity:g} is outside the searchable range [{p:g}, {1 - r:g}] "
                f"set by prune={p:g} and lock={r:g}: choose a sparsity in that range or change the ratios."
            )

    @property
    def ratios(self) -> tuple[float, float]:
        """The pruning and locking ratios (p, r) this config resolves to."""
        if self.freeze is not None:
            return position_search_space(self.freeze, self.sparsity)
        return (self.prune or 0.0, self.lock or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


OPTIMIZERS: tuple[str, ...] = ("sgd", "adamw")


@dataclass(frozen=True)
class RunConfig:
    """One training run: a ticket search, or weight training when ``ticket`` is None.

    The run's ``seed`` draws the network, the train/validation split and the batch
    order; a ticket whose seed is left at 0 takes it (and stores it), and a ticket
    with another seed of its own is refused.
    """

    model: str = "mlp"
    """Model name, a key of :data:`slt.models.MODELS`."""
    dataset: str = "fashion-mnist"
    """Data set name, a key of :data:`slt.data.DATASETS`."""
    graph_split: str = "full"
    """Planetoid split of Cora/CiteSeer: 'full' (every node outside validation and test trains; the
    label-rich stand-in for OGBN-Arxiv) or 'public' (20 labels per class). Ignored by other data sets."""
    ticket: TicketConfig | None = TicketConfig()
    """What to search; None trains the weights instead (the baseline)."""
    width: float = 1.0
    """Multiplier of the model's hidden sizes."""
    seed: int = 0
    """Seed of the network, the data split and the batch order."""
    epochs: int = 2
    """Passes over the training split."""
    batch_size: int = 128
    """Examples per optimizer step."""
    optimizer: str = "sgd"
    """The optimizer of the scores (or of the weights, for weight training)."""
    lr: float = 0.1
    """Peak learning rate (cosine-annealed to 0 over the epochs)."""
    momentum: float = 0.9
    """SGD momentum (ignored by adamw)."""
    weight_decay: float = 1e-4
    """Weight decay on the trained tensors (scores, or weights for weight training)."""
    val_fraction: float = 0.2
    """Fraction of the training set held out for model selection (the papers use 4:1)."""
    train_subset: int | None = None
    """Use only the first N training examples (quick runs); None uses all."""
    val_subset: int | None = None
    """Select on the first N validation examples only (smaller scales); None uses all. The test split is whole."""
    accept_data_copy: bool = False
    """Accept a data set whose files differ from the official checksums (recorded as its variant)."""

    def __post_init__(self) -> None:
        from .data import DATASETS
        from .data.graphs import PLANETOID_SPLITS
        from .models import MODELS

        check_choice("model", self.model, tuple(MODELS))
        check_choice("dataset", self.dataset, tuple(DATASETS))
        takes, kind = MODELS[self.model].data, DATASETS[self.dataset].kind
        if takes != kind:
            fitting = ", ".join(name for name, spec in DATASETS.items() if spec.kind == takes)
            raise ConfigError(
                f"{self.model} takes {takes} data and {self.dataset} is a {kind} data set: "
                f"choose one of {fitting}, or another model."
            )
        check_choice("graph split", self.graph_split, PLANETOID_SPLITS)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        for name in ("epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}.")
        if self.width <= 0:
            raise ConfigError(f"width must be positive, got {self.width:g}.")
        if self.lr <= 0:
            raise ConfigError(f"lr must be positive, got {self.lr:g}.")
        check_ratio("val_fraction", self.val_fraction, closed_above=False)
        for name in ("train_subset", "val_subset"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 (or None for all), got {value}.")
        if self.ticket is not None and self.ticket.seed not in (0, self.seed):
            raise ConfigError(
                f"the ticket's seed {self.ticket.seed} differs from the run's seed {self.seed}: a run draws its "
                f"network from its own seed, so set the run's seed to {self.ticket.seed} (the ticket's may stay 0)."
            )
        if self.ticket is not None and self.ticket.seed != self.seed:
            object.__setattr__(self, "ticket", replace(self.ticket, seed=self.seed))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        data = dict(data)
        if data.get("ticket") is not None:
            data["ticket"] = TicketConfig(**data["ticket"])
        return cls(**data)

    @property
    def run_id(self) -> str:
        """A short hash of the whole config: records and checkpoints are named by it."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
