"""Export of the ranking as shown (导出 Excel / CSV): the spot another change fills in.

The ranking page calls :func:`export_buttons` right above its table with the results
and the filtered, Chinese-labelled view the user sees, so an export matches the screen.
"""

from __future__ import annotations

import pandas as pd

from evalcore import services


def export_buttons(results: services.RoundResults, view: pd.DataFrame) -> None:
    """TODO(export): add st.download_button 导出 Excel / 导出 CSV for ``view`` here.

    Build the bytes in a pure function (e.g. in ``evalcore``) and pass them as ``data=``
    with ``on_click="ignore"`` (see STREAMLIT-NOTES: a callable ``data`` has no context).
    """
    del results, view
