//! `--report FILE`: a self-contained SVG picture of a sweep. Left, rows/s against connections, one line per
//! batch size × APOC series; right, the batch latency percentiles (p50, p95, p99, max) of every configuration.

use super::ConfigResult;
use std::fmt::Write;

const W: f64 = 1100.0;
const H: f64 = 460.0;
const PANEL_W: f64 = 470.0;
const PANEL_H: f64 = 320.0;
const TOP: f64 = 70.0;
const COLORS: &[&str] = &[
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];
const PERCENTILE_COLORS: &[&str] = &["#9ecae1", "#4292c6", "#08519c", "#08306b"];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A "nice" axis maximum (1, 2 or 5 × 10^k) at or above `v`.
fn nice(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * p >= v {
            return m * p;
        }
    }
    10.0 * p
}

fn series_name(r: &ConfigResult) -> String {
    format!(
        "batch {}, apoc {}",
        r.batch_size,
        if r.apoc { "on" } else { "off" }
    )
}

/// The picture.
pub fn svg(title: &str, results: &[ConfigResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" font-size="16" text-anchor="middle">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    throughput(&mut s, results, 70.0);
    latency(&mut s, results, 70.0 + PANEL_W + 90.0);
    s.push_str("</svg>\n");
    s
}

fn throughput(s: &mut String, results: &[ConfigResult], x0: f64) {
    let mut series: Vec<(String, Vec<&ConfigResult>)> = Vec::new();
    for r in results {
        let name = series_name(r);
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(r),
            None => series.push((name, vec![r])),
        }
    }
    let mut conns: Vec<usize> = results.iter().map(|r| r.connections).collect();
    conns.sort_unstable();
    conns.dedup();
    let ymax = nice(results.iter().map(|r| r.rows_per_s).fold(0.0, f64::max) * 1.05);
    let y = |v: f64| TOP + PANEL_H - v / ymax * PANEL_H;
    // Connections on a log2 scale, evenly spaced by rank (the sweep doubles them).
    let x = |c: usize| {
        let i = conns.iter().position(|&k| k == c).unwrap_or(0);
        if conns.len() <= 1 {
            x0 + PANEL_W / 2.0
        } else {
            x0 + 20.0 + i as f64 * (PANEL_W - 40.0) / (conns.len() - 1) as f64
        }
    };
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-size="14" text-anchor="middle">throughput (rows/s) vs connections</text>"#,
        x0 + PANEL_W / 2.0,
        TOP - 14.0
    );
    axes(s, x0, ymax);
    for &c in &conns {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{c}</text>"#,
            x(c),
            TOP + PANEL_H + 16.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">connections (queries in flight)</text>"#,
        x0 + PANEL_W / 2.0,
        TOP + PANEL_H + 34.0
    );
    for (k, (name, pts)) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let path: Vec<String> = pts
            .iter()
            .map(|r| format!("{:.1},{:.1}", x(r.connections), y(r.rows_per_s)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        for r in pts {
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{color}"><title>{} conns {}: {:.0} rows/s</title></circle>"#,
                x(r.connections),
                y(r.rows_per_s),
                esc(name),
                r.connections,
                r.rows_per_s
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{color}">{:.1}k</text>"#,
                x(r.connections),
                y(r.rows_per_s) - 7.0,
                r.rows_per_s / 1000.0
            );
        }
        let ly = TOP + 10.0 + 16.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="4" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            x0 + 12.0,
            ly - 4.0,
            x0 + 28.0,
            ly + 2.0,
            esc(name)
        );
    }
}

fn axes(s: &mut String, x0: f64, ymax: f64) {
    let _ = writeln!(
        s,
        r##"<path d="M{x0},{TOP} V{} H{}" fill="none" stroke="#333"/>"##,
        TOP + PANEL_H,
        x0 + PANEL_W
    );
    for t in 0..=5 {
        let v = ymax * t as f64 / 5.0;
        let yy = TOP + PANEL_H - PANEL_H * t as f64 / 5.0;
        let label = if ymax >= 10_000.0 {
            format!("{:.0}k", v / 1000.0)
        } else if ymax >= 10.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{yy:.1}" x2="{}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
            x0 + PANEL_W,
            x0 - 6.0,
            yy + 4.0
        );
    }
}

fn latency(s: &mut String, results: &[ConfigResult], x0: f64) {
    let ymax = nice(results.iter().map(|r| r.latency_ms[3]).fold(0.0, f64::max) * 1.05);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-size="14" text-anchor="middle">batch latency (ms): p50, p95, p99, max</text>"#,
        x0 + PANEL_W / 2.0,
        TOP - 14.0
    );
    axes(s, x0, ymax);
    let n = results.len().max(1) as f64;
    let group = PANEL_W / n;
    let bar = (group * 0.8 / 4.0).min(18.0);
    for (i, r) in results.iter().enumerate() {
        let gx = x0 + group * i as f64 + (group - 4.0 * bar) / 2.0;
        for (p, v) in r.latency_ms.iter().enumerate() {
            let h = v / ymax * PANEL_H;
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"><title>{} conns {}: {} {v:.1} ms</title></rect>"#,
                gx + bar * p as f64,
                TOP + PANEL_H - h,
                bar,
                h,
                PERCENTILE_COLORS[p],
                esc(&series_name(r)),
                r.connections,
                ["p50", "p95", "p99", "max"][p]
            );
        }
        let cx = x0 + group * (i as f64 + 0.5);
        let _ = writeln!(
            s,
            r#"<text x="{cx:.1}" y="{}" font-size="10" text-anchor="middle">c{} b{}</text><text x="{cx:.1}" y="{}" font-size="10" text-anchor="middle">apoc {}</text>"#,
            TOP + PANEL_H + 14.0,
            r.connections,
            r.batch_size,
            TOP + PANEL_H + 26.0,
            if r.apoc { "on" } else { "off" }
        );
    }
    for (p, name) in ["p50", "p95", "p99", "max"].iter().enumerate() {
        let lx = x0 + 12.0 + 50.0 * p as f64;
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{name}</text>"#,
            TOP + 4.0,
            PERCENTILE_COLORS[p],
            lx + 14.0,
            TOP + 13.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(c: usize, apoc: bool, rps: f64) -> ConfigResult {
        ConfigResult {
            shape: "nodes".into(),
            connections: c,
            batch_size: 1000,
            apoc,
            rows_per_s: rps,
            latency_ms: [1.0, 2.0, 3.0, 4.0],
            json: serde_json::Value::Null,
        }
    }

    #[test]
    fn the_picture_is_one_svg_with_a_line_per_series() {
        let out = svg(
            "t <&>",
            &[r(1, true, 100.0), r(2, true, 180.0), r(1, false, 150.0)],
        );
        assert!(out.starts_with("<svg") && out.trim_end().ends_with("</svg>"));
        assert_eq!(out.matches("<polyline").count(), 2);
        assert!(out.contains("t &lt;&amp;&gt;"));
        assert_eq!(nice(7300.0), 10000.0);
        assert_eq!(nice(1500.0), 2000.0);
    }
}
