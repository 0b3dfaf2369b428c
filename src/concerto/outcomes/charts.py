"""Scores over time as Vega-Lite specs built with Altair (rendered by static/concerto/charts.js with
Vega's CSP-safe interpreter). Every chart sits beside a table of the same figures."""

from __future__ import annotations

from typing import Any

import altair as alt

from concerto.outcomes.definitions import Questionnaire
from concerto.outcomes.selectors import ScorePoint

# NHS identity colours: blue, dark pink, warm yellow's darker neighbour, green.
COLOURS = ["#005eb8", "#ae2573", "#ed8b00", "#007f3b"]


def score_chart(questionnaire: Questionnaire, points: list[ScorePoint]) -> dict[str, Any]:
    low = min((r.range[0] for r in questionnaire.scoring), default=0)
    high = max((r.range[1] for r in questionnaire.scoring), default=1)
    labels = [r.label for r in questionnaire.scoring]
    data = alt.Data(
        values=[
            {"date": p.completed_on.isoformat(), "score": p.label, "value": p.value, "band": p.band or "–"}
            for p in points
        ]
    )
    lines = (
        alt.Chart(data)
        .mark_line(point=alt.OverlayMarkDef(size=60), strokeWidth=3)
        .encode(
            x=alt.X("date:T", title="Date completed", axis=alt.Axis(format="%-d %b %Y", labelAngle=0, tickCount=6)),
            y=alt.Y("value:Q", title="Score", scale=alt.Scale(domain=[low, high], nice=False, zero=False)),
            color=alt.Color(
                "score:N",
                title=None,
                scale=alt.Scale(domain=labels, range=COLOURS[: len(labels)] or COLOURS),
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400),
            ),
            strokeDash=alt.StrokeDash("score:N", legend=None),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%-d %b %Y"),
                alt.Tooltip("score:N", title="Score"),
                alt.Tooltip("value:Q", title="Value"),
                alt.Tooltip("band:N", title="Band"),
            ],
        )
    )
    layers: list[alt.Chart] = [lines]
    references = sorted({r.reference for r in questionnaire.scoring if r.reference is not None})
    if references:  # DIALOG: 4 is the neutral midpoint; below it, dissatisfaction
        layers.insert(
            0,
            alt.Chart(alt.Data(values=[{"y": y} for y in references]))
            .mark_rule(color="#768692", strokeDash=[4, 4])
            .encode(y="y:Q"),
        )
    chart = alt.layer(*layers).properties(width="container", height=260, title=f"{questionnaire.title} over time")
    return chart.to_dict()
