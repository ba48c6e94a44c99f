//! The PNG chart of a comparison: validation loss and mAP per epoch, and the final mAP, per loss.

use std::error::Error;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::train::Run;

const FONT: &str = "sans-serif";
const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Draws the three panels of `runs` (and the baseline's mAP) into a PNG at `path`.
pub fn draw(path: &Path, runs: &[Run], baseline_map: f64) -> Result<(), Box<dyn Error>> {
    // Embedded so the chart's text renders the same on every machine, with or without fonts.
    let _ =
        plotters::style::register_font(FONT, FontStyle::Normal, include_bytes!("DejaVuSans.ttf"));
    let root = BitMapBackend::new(path, (1800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, body) = root.split_vertically(50);
    title.titled(
        "burn-losses: one MLP per loss, same data, same initial weights",
        (FONT, 26),
    )?;
    let panels = body.split_evenly((1, 3));
    // The losses differ in scale (a focal loss is a fraction of a BCE), so each curve is drawn
    // relative to its untrained model's value; metrics.json has the absolute values.
    let relative = |run: &Run| -> Vec<f64> {
        let start = run.validation_loss.first().copied().unwrap_or(1.0);
        run.validation_loss.iter().map(|v| v / start).collect()
    };
    let curves = |values: &dyn Fn(&Run) -> Vec<f64>| -> Vec<Curve> {
        runs.iter()
            .zip(COLORS.iter().cycle())
            .map(|(run, color)| (run.loss.name(), *color, values(run)))
            .collect()
    };
    let loss_curves = curves(&relative);
    let highest = loss_curves
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied())
        .fold(1.0f64, f64::max);
    epoch_panel(
        &panels[0],
        (
            "Validation loss, relative to the untrained model's",
            "validation loss / untrained",
        ),
        highest * 1.05,
        &loss_curves,
        None,
        SeriesLabelPosition::MiddleRight,
    )?;
    epoch_panel(
        &panels[1],
        ("Validation macro mAP per epoch", "macro mAP"),
        1.0,
        &curves(&|run| run.validation_map.clone()),
        Some(("label-frequency baseline", baseline_map)),
        SeriesLabelPosition::UpperLeft,
    )?;

    let mut names: Vec<&str> = runs.iter().map(|r| r.loss.name()).collect();
    names.push("baseline");
    let mut values: Vec<f64> = runs.iter().map(|r| r.metrics.macro_map).collect();
    values.push(baseline_map);
    let mut chart = ChartBuilder::on(&panels[2])
        .caption("Final validation macro mAP", (FONT, 20))
        .margin(16)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d((0..names.len() - 1).into_segmented(), 0.0..1.0)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_labels(6)
        .x_labels(names.len())
        .x_label_formatter(&|segment| match segment {
            SegmentValue::CenterOf(i) => names.get(*i).copied().unwrap_or("").to_string(),
            _ => String::new(),
        })
        .y_desc("macro mAP")
        .label_style((FONT, 15))
        .draw()?;
    for (index, value) in values.iter().enumerate() {
        let color = if index < runs.len() {
            COLORS[index % COLORS.len()]
        } else {
            RGBColor(90, 90, 90)
        };
        chart.draw_series(std::iter::once(Rectangle::new(
            [
                (SegmentValue::Exact(index), 0.0),
                (SegmentValue::Exact(index + 1), *value),
            ],
            color.filled(),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("{value:.3}"),
            (SegmentValue::CenterOf(index), *value + 0.01),
            TextStyle::from((FONT, 16).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom)),
        )))?;
    }
    root.present()?;
    Ok(())
}

/// A named curve: one value per epoch, epoch 0 being the untrained model.
type Curve = (&'static str, RGBColor, Vec<f64>);

/// One panel of per-epoch curves, titled and labelled by `(caption, y_desc)`, from 0 to `y_max`,
/// with an optional named horizontal reference line and the legend at `legend`.
fn epoch_panel(
    area: &DrawingArea<BitMapBackend, Shift>,
    (caption, y_desc): (&str, &str),
    y_max: f64,
    curves: &[Curve],
    reference: Option<(&str, f64)>,
    legend: SeriesLabelPosition,
) -> Result<(), Box<dyn Error>> {
    let last_epoch = curves
        .iter()
        .map(|(_, _, values)| values.len().saturating_sub(1))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 20))
        .margin(16)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0..last_epoch, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_desc)
        .y_labels(6)
        .label_style((FONT, 15))
        .draw()?;
    let line = |color: RGBColor, width| {
        move |(x, y): (i32, i32)| {
            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(width))
        }
    };
    for (name, color, values) in curves {
        let points = values.iter().copied().enumerate();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(3)))?
            .label(*name)
            .legend(line(*color, 3));
    }
    if let Some((name, value)) = reference {
        chart
            .draw_series(LineSeries::new(
                [(0, value), (last_epoch, value)],
                BLACK.stroke_width(2),
            ))?
            .label(name)
            .legend(line(BLACK, 2));
    }
    chart
        .configure_series_labels()
        .position(legend)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
