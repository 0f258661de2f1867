"""Excel round trip: score-sheet templates, validated import, formatted reports."""
