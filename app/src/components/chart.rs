//! The one chart component: server-rendered SVG (readable before any
//! script runs) used by the dashboard, the rollups, the sequence report and
//! the ledger views. Every text is placed inside the drawing's box: label
//! columns and value labels are sized from their own text, values are
//! written compactly ("68.3k USD"), and axes get round ticks.

use leptos::either::Either;
use leptos::prelude::*;

/// What a chart's numbers are.
#[derive(Clone, Debug, PartialEq)]
pub enum Unit {
    Count,
    /// Minor units of a currency.
    Money(String),
}

impl Unit {
    /// A value as short text for labels and ticks.
    pub fn compact(&self, value: i128) -> String {
        let formats = crate::platform::formats::Formats::current();
        match self {
            Unit::Count => formats.decimal(&compact_number(value as f64)),
            Unit::Money(currency) => format!("{} {currency}", formats.decimal(&compact_number(value as f64 / 100.0))),
        }
    }
}

/// 68259 → "68.3k", 1234567 → "1.23M", 950 → "950", 12.5 → "12.5": three
/// significant digits at most, so a label never outgrows its place.
pub fn compact_number(value: f64) -> String {
    let sign = if value < 0.0 { "-" } else { "" };
    let magnitude = value.abs();
    let (scaled, suffix) = match magnitude {
        m if m >= 1e12 => (m / 1e12, "T"),
        m if m >= 1e9 => (m / 1e9, "B"),
        m if m >= 1e6 => (m / 1e6, "M"),
        m if m >= 1e3 => (m / 1e3, "k"),
        m => (m, ""),
    };
    let text = if scaled >= 100.0 || (suffix.is_empty() && scaled.fract() == 0.0) {
        format!("{scaled:.0}")
    } else if scaled >= 10.0 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    // "12.50" → "12.5", "3.00" → "3".
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text };
    format!("{sign}{text}{suffix}")
}

/// Round tick values from zero up to at least `max`: steps of 1, 2, 2.5 or
/// 5 times a power of ten, about `count` of them.
pub fn nice_ticks(max: f64, count: usize) -> Vec<f64> {
    if max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let rough = max / count.max(1) as f64;
    let power = 10f64.powf(rough.log10().floor());
    // Values are whole numbers (counts, minor units): no step below one.
    let step = [1.0, 2.0, 2.5, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= rough).unwrap_or(10.0 * power).max(1.0);
    let steps = (max / step).ceil().max(1.0) as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// One labelled value of a bar chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: i128,
}

impl Bar {
    /// Bars from named counts, in the order given (a funnel's steps).
    pub fn counts(counts: impl IntoIterator<Item = (&'static str, i64)>) -> Vec<Bar> {
        counts.into_iter().map(|(label, n)| Bar { label: label.into(), value: n.into() }).collect()
    }
}

/// One named row of values over the x axis of a column chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub values: Vec<i128>,
}

/// What to draw.
#[derive(Clone, Debug, PartialEq)]
pub enum ChartKind {
    /// Horizontal bars, one per label, with the value at the end of each.
    Bars(Vec<Bar>),
    /// Columns over an x axis (days, weeks), one column per series at each
    /// point, and optionally a line on its own right-hand axis (a count
    /// beside money).
    Columns { x_labels: Vec<String>, series: Vec<Series>, line: Option<(Series, Unit)> },
}

/// A chart: a title, the unit of its values and what to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartSpec {
    pub title: String,
    pub unit: Unit,
    pub kind: ChartKind,
}

impl ChartSpec {
    pub fn bars(title: impl Into<String>, unit: Unit, bars: Vec<Bar>) -> Self {
        ChartSpec { title: title.into(), unit, kind: ChartKind::Bars(bars) }
    }

    fn is_empty(&self) -> bool {
        match &self.kind {
            ChartKind::Bars(bars) => bars.is_empty(),
            ChartKind::Columns { x_labels, .. } => x_labels.is_empty(),
        }
    }
}

/// Text width in the drawing's units at the 12-unit font: a generous
/// average glyph width, so a label is never cut.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 7.0
}

const ACCENT: &str = "#2456d6";
const GRID: &str = "#dfe4ee";
const MUTED: &str = "#5e6b82";
const INK: &str = "#1d2433";

#[component]
pub fn Chart(spec: ChartSpec) -> impl IntoView {
    let empty = spec.is_empty();
    let title = spec.title.clone();
    view! {
        <figure class="chart">
            <figcaption>{title}</figcaption>
            {if empty {
                Either::Left(view! { <p class="muted">"No data yet."</p> })
            } else {
                Either::Right(match spec.kind {
                    ChartKind::Bars(bars) => Either::Left(bar_chart(&spec.title, &spec.unit, bars)),
                    ChartKind::Columns { x_labels, series, line } => {
                        Either::Right(column_chart(&spec.title, &spec.unit, x_labels, series, line))
                    }
                })
            }}
        </figure>
    }
}

fn bar_chart(title: &str, unit: &Unit, bars: Vec<Bar>) -> impl IntoView {
    const WIDTH: f64 = 560.0;
    const ROW: f64 = 28.0;
    const AXIS: f64 = 22.0;
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f64;
    let ticks = nice_ticks(max, 4);
    let top = *ticks.last().unwrap_or(&max);
    // Labels longer than 28 characters are shortened (the full label is in
    // the bar's tooltip).
    let short = |label: &str| {
        if label.chars().count() > 28 {
            format!("{}…", label.chars().take(27).collect::<String>())
        } else {
            label.to_string()
        }
    };
    let label_width = bars.iter().map(|b| text_width(&short(&b.label))).fold(40.0, f64::max) + 8.0;
    let value_width = bars.iter().map(|b| text_width(&unit.compact(b.value))).fold(0.0, f64::max) + 8.0;
    let plot = (WIDTH - label_width - value_width).max(80.0);
    let height = bars.len() as f64 * ROW + AXIS + 4.0;
    let axis_y = bars.len() as f64 * ROW + 4.0;
    let x_of = move |value: f64| label_width + (value.max(0.0) / top * plot);
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {height}") width="100%" role="img" aria-label=title.to_string()>
            {ticks.iter().map(|tick| {
                let x = x_of(*tick);
                let text = unit.compact(*tick as i128);
                view! {
                    <line x1=format!("{x:.1}") x2=format!("{x:.1}") y1="2" y2=format!("{axis_y:.1}") stroke=GRID></line>
                    <text x=format!("{x:.1}") y=format!("{:.1}", axis_y + 15.0) font-size="11" fill=MUTED text-anchor="middle">{text}</text>
                }
            }).collect_view()}
            {bars.into_iter().enumerate().map(|(i, bar)| {
                let y = i as f64 * ROW + 4.0;
                let width = (x_of(bar.value as f64) - label_width).max(2.0);
                let shown = unit.compact(bar.value);
                let full = format!("{}: {}", bar.label, shown);
                view! {
                    <g>
                        <title>{full}</title>
                        <text x="0" y=format!("{:.1}", y + 15.0) font-size="12" fill=MUTED>{short(&bar.label)}</text>
                        <rect x=format!("{label_width:.1}") y=format!("{y:.1}") width=format!("{width:.1}") height="20" rx="3" fill=ACCENT></rect>
                        <text x=format!("{:.1}", label_width + width + 6.0) y=format!("{:.1}", y + 15.0) font-size="12" fill=INK>{shown}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}

fn column_chart(title: &str, unit: &Unit, x_labels: Vec<String>, series: Vec<Series>, line: Option<(Series, Unit)>) -> impl IntoView {
    const WIDTH: f64 = 640.0;
    const HEIGHT: f64 = 220.0;
    const BOTTOM: f64 = 22.0;
    const TOP: f64 = 10.0;
    let max = series.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0).max(1) as f64;
    let ticks = nice_ticks(max, 4);
    let top = *ticks.last().unwrap_or(&max);
    let left = ticks.iter().map(|t| text_width(&unit.compact(*t as i128))).fold(0.0, f64::max) + 8.0;
    let line_ticks = line.as_ref().map(|(s, _)| nice_ticks(s.values.iter().copied().max().unwrap_or(0).max(1) as f64, 4));
    let right = match (&line, &line_ticks) {
        (Some((_, line_unit)), Some(ticks)) => ticks.iter().map(|t| text_width(&line_unit.compact(*t as i128))).fold(0.0, f64::max) + 8.0,
        _ => 8.0,
    };
    let plot_w = WIDTH - left - right;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let n = x_labels.len().max(1) as f64;
    let step = plot_w / n;
    let y_of = move |value: f64, top: f64| TOP + plot_h - (value.max(0.0) / top * plot_h);
    // Label every k-th point so x labels never overlap.
    let label_w = x_labels.iter().map(|l| text_width(l)).fold(0.0, f64::max) + 10.0;
    let every = ((label_w / step).ceil() as usize).max(1);
    let groups = series.len().max(1) as f64;
    let column = ((step * 0.8) / groups).max(1.0);
    let legend: Vec<(String, &'static str)> =
        series.iter().map(|s| (s.name.clone(), s.color)).chain(line.iter().map(|(s, _)| (s.name.clone(), s.color))).collect();
    view! {
        <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") width="100%" role="img" aria-label=title.to_string()>
            {ticks.iter().map(|tick| {
                let y = y_of(*tick, top);
                view! {
                    <line x1=format!("{left:.1}") x2=format!("{:.1}", WIDTH - right) y1=format!("{y:.1}") y2=format!("{y:.1}") stroke=GRID></line>
                    <text x=format!("{:.1}", left - 4.0) y=format!("{:.1}", y + 4.0) font-size="11" fill=MUTED text-anchor="end">{unit.compact(*tick as i128)}</text>
                }
            }).collect_view()}
            {match (&line, &line_ticks) {
                (Some((_, line_unit)), Some(ticks)) => {
                    let line_top = *ticks.last().unwrap_or(&1.0);
                    Some(ticks.iter().map(|tick| view! {
                        <text x=format!("{:.1}", WIDTH - right + 4.0) y=format!("{:.1}", y_of(*tick, line_top) + 4.0) font-size="11" fill=MUTED>{line_unit.compact(*tick as i128)}</text>
                    }).collect_view())
                }
                _ => None,
            }}
            {x_labels.iter().enumerate().map(|(i, label)| {
                let x = left + step * (i as f64 + 0.5);
                let values: Vec<String> = series.iter().map(|s| format!("{} {}", s.name, unit.compact(s.values.get(i).copied().unwrap_or(0))))
                    .chain(line.iter().map(|(s, u)| format!("{} {}", s.name, u.compact(s.values.get(i).copied().unwrap_or(0)))))
                    .collect();
                view! {
                    <g>
                        <title>{format!("{label}: {}", values.join(", "))}</title>
                        {series.iter().enumerate().map(|(k, s)| {
                            let value = s.values.get(i).copied().unwrap_or(0) as f64;
                            let y = y_of(value, top);
                            let x0 = x - column * groups / 2.0 + column * k as f64;
                            view! { <rect x=format!("{x0:.1}") y=format!("{y:.1}") width=format!("{:.1}", (column - 1.0).max(1.0)) height=format!("{:.1}", TOP + plot_h - y) fill=s.color></rect> }
                        }).collect_view()}
                        {(i % every == 0).then(|| view! {
                            <text x=format!("{x:.1}") y=format!("{:.1}", HEIGHT - 6.0) font-size="11" fill=MUTED text-anchor="middle">{label.clone()}</text>
                        })}
                    </g>
                }
            }).collect_view()}
            {match (&line, &line_ticks) {
                (Some((s, _)), Some(ticks)) => {
                    let line_top = *ticks.last().unwrap_or(&1.0);
                    let points: Vec<String> = s.values.iter().enumerate()
                        .map(|(i, v)| format!("{:.1},{:.1}", left + step * (i as f64 + 0.5), y_of(*v as f64, line_top)))
                        .collect();
                    Some(view! { <polyline points=points.join(" ") fill="none" stroke=s.color stroke-width="2"></polyline> })
                }
                _ => None,
            }}
            <line x1=format!("{left:.1}") x2=format!("{:.1}", WIDTH - right) y1=format!("{:.1}", TOP + plot_h) y2=format!("{:.1}", TOP + plot_h) stroke=MUTED></line>
        </svg>
        {(legend.len() > 1).then(|| view! {
            <p class="legend">
                {legend.into_iter().map(|(name, color)| view! {
                    <span class="legend-item"><span class="swatch" style=format!("background:{color}")></span>{name}</span>
                }).collect_view()}
            </p>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_numbers_keep_three_significant_digits() {
        assert_eq!(compact_number(68_259.0), "68.3k");
        assert_eq!(compact_number(1_234_567.0), "1.23M");
        assert_eq!(compact_number(950.0), "950");
        assert_eq!(compact_number(12.5), "12.5");
        assert_eq!(compact_number(3.0), "3");
        assert_eq!(compact_number(0.0), "0");
        assert_eq!(compact_number(-2_500.0), "-2.5k");
        assert_eq!(compact_number(125_000.0), "125k");
        assert_eq!(Unit::Money("USD".into()).compact(6_825_900), "68.3k USD");
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(68_259.0, 4), vec![0.0, 20_000.0, 40_000.0, 60_000.0, 80_000.0]);
        assert_eq!(nice_ticks(7.0, 4), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(100.0, 4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(nice_ticks(0.0, 4), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(1.0, 4), vec![0.0, 1.0]);
    }
}
