//! SVG plots (plotters' SVG backend; text is written as SVG `<text>`, no font files needed).
//!
//! - [`percentile_plot`]: latency by percentile, HdrHistogram style (x = percentile on a
//!   `1/(1-p)` log scale: 0 %, 90 %, 99 %, 99.9 %, ...), one line per series.
//! - [`sweep_plot`]: ACK p99 by offered rate, with the bound.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

/// One line of a percentile plot: a label and `(value ms, percentile 0..=1)` points.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

const COLOURS: [RGBColor; 4] =
    [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44), RGBColor(148, 103, 189)];

/// The deepest percentile plotted: 99.999 % (x = 5).
const MAX_NINES: f64 = 5.0;

fn nines(q: f64) -> f64 {
    (1.0 / (1.0 - q.min(0.999_999_9))).log10().clamp(0.0, MAX_NINES)
}

fn nines_label(x: f64) -> String {
    match x.round() as i64 {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        3 => "99.9%".into(),
        4 => "99.99%".into(),
        _ => "99.999%".into(),
    }
}

/// Writes a percentile plot of `series` to `path`.
///
/// # Errors
/// When the SVG cannot be drawn or written.
pub fn percentile_plot(path: &Path, title: &str, series: &[Series]) -> anyhow::Result<()> {
    let max_ms = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).fold(0.0f64, f64::max).max(0.001);
    let deepest = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| nines(p.1)))
        .fold(1.0f64, f64::max)
        .ceil()
        .min(MAX_NINES);
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).context("plot background")?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..deepest, 0.0..max_ms * 1.05)
        .context("plot axes")?;
    chart
        .configure_mesh()
        .x_labels(deepest as usize + 1)
        .x_label_formatter(&|x| nines_label(*x))
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .draw()
        .context("plot mesh")?;
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<(f64, f64)> = s.points.iter().map(|&(v, q)| (nines(q), v)).collect();
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .context("plot series")?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .context("plot legend")?;
    root.present().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Writes ACK p99 (ms) by offered rate, with a horizontal line at `bound_ms`.
///
/// # Errors
/// When the SVG cannot be drawn or written.
pub fn sweep_plot(path: &Path, title: &str, points: &[(u64, f64)], bound_ms: f64) -> anyhow::Result<()> {
    let max_rate = points.iter().map(|p| p.0).max().unwrap_or(1).max(1) as f64;
    let max_ms = points.iter().map(|p| p.1).fold(bound_ms, f64::max) * 1.1;
    let root = SVGBackend::new(path, (900, 540)).into_drawing_area();
    root.fill(&WHITE).context("plot background")?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_rate * 1.05, 0.0..max_ms)
        .context("plot axes")?;
    chart
        .configure_mesh()
        .x_desc("offered rate (messages/s)")
        .y_desc("ACK p99 (ms)")
        .draw()
        .context("mesh")?;
    let mut sorted: Vec<(f64, f64)> = points.iter().map(|&(r, v)| (r as f64, v)).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    chart
        .draw_series(LineSeries::new(sorted.clone(), COLOURS[0].stroke_width(2)))
        .context("plot series")?
        .label("ACK p99")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLOURS[0].stroke_width(2)));
    chart.draw_series(sorted.iter().map(|p| Circle::new(*p, 4, COLOURS[0].filled()))).context("points")?;
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, bound_ms), (max_rate * 1.05, bound_ms)],
            COLOURS[1].stroke_width(1),
        ))
        .context("bound")?
        .label(format!("bound {bound_ms} ms"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLOURS[1].stroke_width(1)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .draw()
        .context("legend")?;
    root.present().with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
