"""sweepd's Python client: the reporting protocol v1 (docs/reporting-protocol.md) for training scripts.

    import sweepd
    p = sweepd.params(defaults={"learning_rate": 0.01})
    ...
    auc = sweepd.multilabel_auc(val_labels, val_scores, class_names)
    sweepd.report(epoch, {"train_loss": loss, **auc.metrics()}, layers=stats.collect(), notes=auc.notes())
    if sweepd.should_stop():
        break

PyTorch layer statistics: ``from sweepd.torch import LayerStats``; Keras: ``from sweepd.keras import
SweepdCallback``. Neither torch nor keras is imported by ``import sweepd``.
"""

from .auc import AucResult, multilabel_auc
from .protocol import (
    LAYER_FIELDS,
    PROTOCOL_VERSION,
    NotUnderSweepd,
    cache_dir,
    format_report,
    max_epochs,
    params,
    report,
    should_stop,
    stop_reason,
    under_sweepd,
)
from .stats import QUANTILE_LEVELS

__version__ = "1.0.0"

__all__ = [
    "AucResult",
    "LAYER_FIELDS",
    "NotUnderSweepd",
    "PROTOCOL_VERSION",
    "QUANTILE_LEVELS",
    "cache_dir",
    "format_report",
    "max_epochs",
    "multilabel_auc",
    "params",
    "report",
    "should_stop",
    "stop_reason",
    "under_sweepd",
]
