"""evalcore: scoring, ranking and reporting for Party-building brand campaigns (一支部一品牌).

The package is layered: the pure core (``rubric``, ``scoring``, ``ranking``, ``stats``,
``charts``) knows nothing of databases or Streamlit; ``db``/``models``/``store`` persist;
``services`` is the one entry point for the app and the CLI.
"""

__version__ = "0.1.0"
