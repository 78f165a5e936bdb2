//! SVG charts of a `compare` run: each subject's throughput and server CPU
//! per message as a multiple of the raw TCP echo's on the same cell, one
//! group of bars per cell (absolute figures span five orders of magnitude
//! across the matrix; the ratio to the ceiling reads the same in every cell).

use std::path::Path;

use plotters::prelude::*;

use crate::cells::{Cell, Kind};
use crate::compare::Outcome;
use crate::load::LoadResult;
use crate::servers::Subject;
use crate::table::{cells, result};

const COLOURS: [RGBColor; 5] = [
    RGBColor(120, 120, 120),
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
];

/// Writes `throughput.svg` and `cpu.svg` into `out`.
///
/// # Errors
/// When a chart cannot be drawn or written.
pub fn write_all(o: &Outcome, out: &Path) -> Result<(), String> {
    let cells: Vec<Cell> = cells(o).into_iter().filter(|c| c.kind != Kind::Deflate).collect();
    let subjects: Vec<Subject> = Subject::ALL
        .into_iter()
        .filter(|s| !s.deflate_only())
        .filter(|s| o.runs.iter().any(|r| r.subject == *s))
        .collect();
    if cells.is_empty() || !subjects.contains(&Subject::RawTcp) {
        return Ok(());
    }
    chart(
        o,
        &cells,
        &subjects,
        &out.join("throughput.svg"),
        "Echoes per second ÷ the raw TCP echo's (higher is better)",
        |r| Some(r.msgs_per_sec),
    )?;
    chart(
        o,
        &cells,
        &subjects,
        &out.join("cpu.svg"),
        "Server CPU per echoed message ÷ the raw TCP echo's (lower is better)",
        |r| r.server_cpu_us_per_msg,
    )
}

fn chart(
    o: &Outcome,
    cells: &[Cell],
    subjects: &[Subject],
    path: &Path,
    title: &str,
    figure: impl Fn(&LoadResult) -> Option<f64>,
) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    // values[s][c]: subject s on cell c ÷ raw TCP on cell c.
    let values: Vec<Vec<Option<f64>>> = subjects
        .iter()
        .map(|s| {
            cells
                .iter()
                .map(|c| {
                    let v = result(o, *s, c).and_then(&figure)?;
                    let raw = result(o, Subject::RawTcp, c).and_then(&figure).filter(|r| *r > 0.0)?;
                    Some(v / raw)
                })
                .collect()
        })
        .collect();
    let top = values.iter().flatten().flatten().copied().fold(1.0, f64::max) * 1.1;
    let n = cells.len();
    let root = SVGBackend::new(path, (u32::try_from(200 + 110 * n).unwrap_or(8000).max(900), 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
        .map_err(|e| err(&e))?;
    let labels: Vec<String> = cells.iter().map(ToString::to_string).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 0.01 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_style(("sans-serif", 11))
        .y_desc("× raw TCP echo")
        .draw()
        .map_err(|e| err(&e))?;
    let width = 0.8 / subjects.len() as f64;
    for (j, (s, row)) in subjects.iter().zip(&values).enumerate() {
        let colour = COLOURS[j % COLOURS.len()];
        chart
            .draw_series(row.iter().enumerate().filter_map(|(i, v)| {
                let left = i as f64 - 0.4 + j as f64 * width;
                v.map(|v| Rectangle::new([(left, 0.0), (left + width * 0.9, v)], colour.filled()))
            }))
            .map_err(|e| err(&e))?
            .label(s.name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
