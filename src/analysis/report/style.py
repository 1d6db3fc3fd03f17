"""The workbench's look, as plain values: status colours and the font (no plotting here).

Tables, briefs and figures share these, so a status reads in the same colour in a table
cell, a summary badge and a chart; :mod:`analysis.report.plots` applies them to matplotlib.
Kept free of heavy imports: a notebook that only records figures never loads matplotlib.
"""

# met / on track / behind / no trend / no target (ColorBrewer RdYlGn ends, greys)
PALETTE = {
    "met": "#1a9850",
    "on_track": "#fdae61",
    "behind": "#d73027",
    "not_met": "#a50026",  # behind when the target year has come: the target was missed
    "no_trend": "#999999",
    "no_target": "#bbbbbb",
}
FONT = "DejaVu Sans"  # matplotlib's default font; it covers Vietnamese diacritics
