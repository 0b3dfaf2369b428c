"""Vega-Lite specifications built with Altair, drawn in the page by `static/concerto/charts.js`.

Charts only ever plot published (disclosure-controlled) figures; each page shows the same
figures in a table beside the chart.
"""

import altair as alt
import pandas as pd

from concerto.analytics.spc import XmR

WIDTH, HEIGHT = 640, 300
# Making Data Count colours, with a shape per kind so colour is never the only signal.
KINDS = ["Common cause", "Improving", "Concerning", "Special cause"]
COLOURS = ["#768692", "#005eb8", "#ed8b00", "#330072"]
SHAPES = ["circle", "triangle-up", "diamond", "square"]


def _kind(point, higher_is_better: bool | None) -> str:
    if not point.special:
        return "Common cause"
    if higher_is_better is None:
        return "Special cause"
    return "Improving" if (point.direction == "high") == higher_is_better else "Concerning"


def xmr_chart(rows: pd.DataFrame, chart: XmR, *, title: str, unit: str, higher_is_better, target) -> dict:
    """An XmR chart of the published monthly values: points, mean, process limits and target."""
    published = rows[[v is not None for v in rows.value]]
    data = pd.DataFrame(
        {
            "month": [p.isoformat() for p in published.period],
            "value": [float(v) for v in published.value],
            "kind": [_kind(p, higher_is_better) for p in chart.points],
            "mean": chart.mean,
            "upper": chart.upper_limit,
            "lower": chart.lower_limit,
        }
    )
    x = alt.X("month:T", title="Month", axis=alt.Axis(format="%b %Y", tickCount="month"))
    base = alt.Chart(data).encode(x=x)
    y_title = f"Value ({unit})"
    # Mean and limits as lines over the months (not rules, which would draw one per month).
    layers = [
        base.mark_line(color="#aeb7bd").encode(y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False))),
        base.mark_line(color="#425563").encode(y="mean:Q"),
        base.mark_line(color="#425563", strokeDash=[6, 4]).encode(y="upper:Q"),
        base.mark_line(color="#425563", strokeDash=[6, 4]).encode(y="lower:Q"),
        base.mark_point(filled=True, size=70).encode(
            y="value:Q",
            color=alt.Color("kind:N", title="Variation", scale=alt.Scale(domain=KINDS, range=COLOURS)),
            shape=alt.Shape("kind:N", title="Variation", scale=alt.Scale(domain=KINDS, range=SHAPES)),
            tooltip=[
                alt.Tooltip("month:T", title="Month", format="%b %Y"),
                alt.Tooltip("value:Q", title=y_title, format=".1f"),
                alt.Tooltip("kind:N", title="Variation"),
            ],
        ),
    ]
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"target": [float(target)]}))
            .mark_rule(color="#d5281b", strokeDash=[2, 2])
            .encode(y="target:Q")
        )
    return (
        alt.layer(*layers)
        .properties(width=WIDTH, height=HEIGHT, title=title, description=f"XmR chart of {title}")
        .to_dict()
    )


def comparison_chart(points: list[tuple[str, str, float]], *, title: str, unit: str, target) -> dict:
    """Each organisation's published value in the latest month (withheld ones left out), with the target."""
    data = pd.DataFrame(points, columns=["organisation", "level", "value"])
    y = alt.Y("organisation:N", title=None, sort=None)
    layers = [
        alt.Chart(data)
        .mark_point(filled=True, size=80)
        .encode(
            x=alt.X("value:Q", title=f"Value ({unit})"),
            y=y,
            color=alt.Color("level:N", title="Level", scale=alt.Scale(range=["#005eb8", "#330072", "#768692"])),
            shape=alt.Shape("level:N", title="Level"),
            tooltip=[alt.Tooltip("organisation:N"), alt.Tooltip("value:Q", format=".1f")],
        )
    ]
    if target is not None:
        layers.append(
            alt.Chart(pd.DataFrame({"target": [float(target)]}))
            .mark_rule(color="#d5281b", strokeDash=[2, 2])
            .encode(x="target:Q")
        )
    height = max(60, 22 * len(points))
    return (
        alt.layer(*layers)
        .properties(width=WIDTH - 200, height=height, title=title, description=f"Organisations compared: {title}")
        .to_dict()
    )
