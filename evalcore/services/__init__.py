"""The service layer: the one entry point for the app and the CLI.

A service function checks what it must, then does its work in one transaction that it
owns. Pages and CLI commands call these and render what comes back.
"""

from evalcore.services.database import (
    DatabaseState,
    database_url,
    demo_dataset,
    init_database,
    load_demo,
    open_database,
)
from evalcore.services.results import (
    BrandDetail,
    RoundInfo,
    RoundProgress,
    RoundResults,
    brand_detail,
    list_rounds,
    round_info,
    round_progress,
    round_results,
)

__all__ = [
    "BrandDetail",
    "DatabaseState",
    "RoundInfo",
    "RoundProgress",
    "RoundResults",
    "brand_detail",
    "database_url",
    "demo_dataset",
    "init_database",
    "list_rounds",
    "load_demo",
    "open_database",
    "round_info",
    "round_progress",
    "round_results",
]
