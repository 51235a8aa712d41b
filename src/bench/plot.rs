//! Latency distributions drawn as one SVG picture of empirical CDFs, for `bench --plot`.
//!
//! A CDF rather than a histogram or a box plot: it shows the whole distribution, tails
//! included, needs no bin width, and several runs or stages read against one shared axis (a
//! curve further left is faster; where curves cross, one has the worse tail). This module only
//! builds a string from numbers: no files, no clocks, std only, so it is tested on fixed data.

/// Canvas width and the plot area inside it, in SVG user units.
const WIDTH: f64 = 900.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 876.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 400.0;
/// The legend sits below the x axis, one row per series, so it never hides a curve.
const LEGEND_TOP: f64 = 466.0;
const ROW: f64 = 18.0;
/// Vertices per polyline: keeps a 10^5-sample run to tens of kilobytes.
const MAX_POINTS: usize = 1000;
/// Tableau 10: distinct for the common kinds of colour blindness.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
];

/// One distribution to draw.
pub struct Series<'a> {
    /// Shown in the legend, e.g. "motion 1920x1080".
    pub label: &'a str,
    /// Latencies in milliseconds, any order, may be empty; non-finite values are ignored.
    pub samples_ms: &'a [f64],
}

/// A series' finite samples, ascending, and how many non-finite ones were left out.
struct Prepared<'a> {
    label: &'a str,
    sorted: Vec<f64>,
    dropped: usize,
}

impl<'a> Prepared<'a> {
    fn new(series: &Series<'a>) -> Self {
        let mut sorted: Vec<f64> = series
            .samples_ms
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        sorted.sort_by(f64::total_cmp);
        let dropped = series.samples_ms.len() - sorted.len();
        Prepared {
            label: series.label,
            sorted,
            dropped,
        }
    }
}

/// The `p`-th percentile (0–100) of `sorted` (ascending), linearly interpolated between the two
/// nearest ranks (numpy's default, as in `stats::percentile`, so the legend agrees with the
/// text report); `None` for no samples.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p.clamp(0.0, 100.0) / 100.0 * last as f64;
    // `rank` is within 0..=last, so both indices are in bounds.
    let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64))
}

/// The 1, 2 or 5 × 10^k step that cuts `range` into about `target` intervals, so tick labels
/// are round numbers.
fn nice_step(range: f64, target: f64) -> f64 {
    let raw = range / target;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    // The slack absorbs float error such as 0.05 / 0.01 = 5.000000000000001.
    let mantissa = match raw / magnitude {
        f if f <= 1.0 + 1e-9 => 1.0,
        f if f <= 2.0 + 1e-9 => 2.0,
        f if f <= 5.0 + 1e-9 => 5.0,
        _ => 10.0,
    };
    mantissa * magnitude
}

/// The x axis as (bound, step): 0 to the first multiple of a nice step at or past `need`. At
/// least 0.1 ms, so two-decimal tick labels stay distinct.
fn x_axis(need: f64) -> (f64, f64) {
    let need = if need.is_finite() { need.max(0.1) } else { 0.1 };
    let step = nice_step(need, 6.0);
    ((need / step - 1e-9).ceil().max(1.0) * step, step)
}

/// CDF vertices (latency ms, share 0..1) of `sorted`, at most `MAX_POINTS`: a true staircase
/// when it fits, else evenly spaced ranks plus the last, where single steps are too fine to see.
fn cdf_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let share = |rank: usize| rank as f64 / n as f64;
    if 2 * n <= MAX_POINTS {
        let steps = sorted.iter().enumerate();
        return steps
            .flat_map(|(i, &x)| [(x, share(i)), (x, share(i + 1))])
            .collect();
    }
    let (last, slots) = (n - 1, MAX_POINTS - 2);
    let mut points = vec![(sorted[0], 0.0)];
    let mut previous = None;
    for k in 0..=slots {
        let i = k * last / slots;
        if previous != Some(i) {
            points.push((sorted[i], share(i + 1)));
            previous = Some(i);
        }
    }
    points
}

/// `v` with at most two decimals and no trailing zeros, keeping the file small and readable.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// `s` made safe inside SVG text and attribute values.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Shared looks, as classes, so each element carries only its coordinates.
const STYLE: &str = "<style type=\"text/css\">\
text{font:12px sans-serif}.mid{text-anchor:middle}.end{text-anchor:end}\
.title{font-size:16px;font-weight:bold;text-anchor:middle}\
.none{font-size:20px;fill:#888;text-anchor:middle}\
.grid{stroke:#e4e4e4}.guide{stroke-opacity:.45;stroke-dasharray:5 4}\
.cdf{fill:none;stroke-width:1.5}.key{stroke-width:3}</style>\n";

fn text(x: f64, y: f64, class: &str, content: &str) -> String {
    let (x, y, content) = (num(x), num(y), escape(content));
    format!("<text x=\"{x}\" y=\"{y}\" class=\"{class}\">{content}</text>\n")
}

/// A line; `attrs` is a class or a stroke colour, written out whole.
fn line(x1: f64, y1: f64, x2: f64, y2: f64, attrs: &str) -> String {
    let (x1, y1, x2, y2) = (num(x1), num(y1), num(x2), num(y2));
    format!("<line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" {attrs}/>\n")
}

/// Maps data to canvas coordinates; latencies outside 0..=bound are pinned to the plot edges.
struct Scale {
    bound: f64,
}

impl Scale {
    fn x(&self, ms: f64) -> f64 {
        LEFT + ms.clamp(0.0, self.bound) / self.bound * (RIGHT - LEFT)
    }
    fn y(share: f64) -> f64 {
        BOTTOM - share * (BOTTOM - TOP)
    }
}

/// Grid, tick labels, frame and axis titles.
fn axes(scale: &Scale, step: f64) -> String {
    let mut out = String::new();
    let grid = "class=\"grid\"";
    for k in 0..=(scale.bound / step).round() as usize {
        // Multiplying rather than accumulating keeps labels such as 0.3 exact.
        let x = scale.x(k as f64 * step);
        out += &line(x, TOP, x, BOTTOM, grid);
        out += &text(x, BOTTOM + 16.0, "mid", &num(k as f64 * step));
    }
    for pct in (0..=100).step_by(20) {
        let y = Scale::y(f64::from(pct) / 100.0);
        out += &line(LEFT, y, RIGHT, y, grid);
        out += &text(LEFT - 6.0, y + 4.0, "end", &pct.to_string());
    }
    let (w, h) = (num(RIGHT - LEFT), num(BOTTOM - TOP));
    out += &format!("<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{w}\" height=\"{h}\" ");
    out += "fill=\"none\" stroke=\"#444\"/>\n";
    out += &text((LEFT + RIGHT) / 2.0, BOTTOM + 36.0, "mid", "latency (ms)");
    let y = num((TOP + BOTTOM) / 2.0);
    out += &format!("<text x=\"18\" y=\"{y}\" class=\"mid\" transform=\"rotate(-90 18 {y})\">");
    out + "share of frames (%)</text>\n"
}

/// The dashed p50 and p99 guides and the CDF polyline of one non-empty series.
fn curve(scale: &Scale, sorted: &[f64], colour: &str) -> String {
    let mut out = String::new();
    for ms in [50.0, 99.0]
        .into_iter()
        .filter_map(|p| percentile(sorted, p))
    {
        let guide = format!("class=\"guide\" stroke=\"{colour}\"");
        out += &line(scale.x(ms), TOP, scale.x(ms), BOTTOM, &guide);
    }
    let points: Vec<String> = cdf_points(sorted)
        .into_iter()
        .map(|(ms, share)| format!("{},{}", num(scale.x(ms)), num(Scale::y(share))))
        .collect();
    let points = points.join(" ");
    out + &format!("<polyline class=\"cdf\" stroke=\"{colour}\" points=\"{points}\"/>\n")
}

/// One legend line: the label, its percentiles, the sample count and the (unclipped) max.
fn legend_text(p: &Prepared<'_>) -> String {
    let (label, n) = (p.label, p.sorted.len());
    let at = |q| percentile(&p.sorted, q);
    let (Some(p50), Some(p95), Some(p99), Some(max)) =
        (at(50.0), at(95.0), at(99.0), p.sorted.last())
    else {
        return format!("{label}: no samples");
    };
    let mut s = format!("{label}: p50 {p50:.1} · p95 {p95:.1} · p99 {p99:.1} ms ");
    s += &format!("(n={n}, max {max:.1} ms");
    if p.dropped > 0 {
        s += &format!(", {} non-finite ignored", p.dropped);
    }
    s + ")"
}

/// Renders every series as an empirical CDF (x: latency in ms, y: share of frames in %), with
/// dashed guides at each series' p50 and p99 and a legend giving p50/p95/p99 (linearly
/// interpolated between nearest ranks), the sample count and the max. The x axis ends at a
/// round tick at or past 1.15 × the largest p99, so one outlier cannot squash the plot; later
/// samples are pinned to the right edge. Non-finite samples are left out of the count.
pub fn cdf_svg(title: &str, series: &[Series<'_>]) -> String {
    let prepared: Vec<Prepared<'_>> = series.iter().map(Prepared::new).collect();
    let height = num(LEGEND_TOP + ROW * prepared.len() as f64);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{WIDTH}\" \
         height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\">\n{STYLE}\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    );
    svg += &text(WIDTH / 2.0, 24.0, "title", title);
    let p99s = prepared.iter().filter_map(|p| percentile(&p.sorted, 99.0));
    match p99s.reduce(f64::max) {
        None => {
            svg += &text(
                (LEFT + RIGHT) / 2.0,
                (TOP + BOTTOM) / 2.0,
                "none",
                "no samples",
            )
        }
        Some(p99) => {
            let (bound, step) = x_axis(p99 * 1.15);
            let scale = Scale { bound };
            svg += &axes(&scale, step);
            for (i, p) in prepared.iter().enumerate() {
                if !p.sorted.is_empty() {
                    svg += &curve(&scale, &p.sorted, PALETTE[i % PALETTE.len()]);
                }
            }
        }
    }
    for (i, p) in prepared.iter().enumerate() {
        let y = LEGEND_TOP - 6.0 + ROW * i as f64;
        let key = format!("class=\"key\" stroke=\"{}\"", PALETTE[i % PALETTE.len()]);
        svg += &line(LEFT, y - 4.0, LEFT + 24.0, y - 4.0, &key);
        svg += &text(LEFT + 32.0, y, "legend", &legend_text(p));
    }
    svg + "</svg>\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series<'a>(label: &'a str, samples_ms: &'a [f64]) -> Series<'a> {
        Series { label, samples_ms }
    }

    fn one(label: &str, samples_ms: &[f64]) -> String {
        cdf_svg("t", &[series(label, samples_ms)])
    }

    fn polyline_points(svg: &str) -> Vec<usize> {
        svg.split("<polyline")
            .skip(1)
            .map(|rest| {
                let start = rest.find("points=\"").expect("polyline has points") + 8;
                let end = rest[start..].find('"').expect("points attribute is closed");
                rest[start..start + end].split_whitespace().count()
            })
            .collect()
    }

    /// The largest x tick label, read back from the SVG.
    fn last_x_tick(svg: &str) -> f64 {
        let marker = format!("y=\"{}\" class=\"mid\">", num(BOTTOM + 16.0));
        svg.split(&marker)
            .skip(1)
            .filter_map(|rest| rest.split('<').next()?.parse().ok())
            .fold(0.0, f64::max)
    }

    #[test]
    fn percentiles_of_one_to_a_hundred() {
        let sorted: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 0.0), Some(1.0));
        assert_eq!(percentile(&sorted, 50.0), Some(50.5));
        assert!((percentile(&sorted, 95.0).expect("non-empty") - 95.05).abs() < 1e-9);
        assert!((percentile(&sorted, 99.0).expect("non-empty") - 99.01).abs() < 1e-9);
        assert_eq!(percentile(&sorted, 100.0), Some(100.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn labels_and_title_are_escaped() {
        let samples = [1.0, 2.0, 3.0];
        let label = "a<b> & \"c\" paint→displayed";
        let svg = cdf_svg("run <1> & co", &[series(label, &samples)]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.contains("a&lt;b&gt; &amp; &quot;c&quot; paint→displayed"));
        assert!(svg.contains("run &lt;1&gt; &amp; co"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn empty_input_says_no_samples() {
        for svg in [cdf_svg("t", &[]), one("idle", &[])] {
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert!(svg.contains("no samples"));
            assert!(!svg.contains("<polyline"));
        }
    }

    #[test]
    fn empty_series_beside_a_full_one_draws_nothing() {
        let samples = [4.0, 5.0];
        let svg = cdf_svg("t", &[series("full", &samples), series("idle", &[])]);
        assert_eq!(polyline_points(&svg).len(), 1);
        assert!(svg.contains("idle: no samples"));
    }

    #[test]
    fn non_finite_samples_are_ignored() {
        let samples = [1.0, f64::NAN, 2.0, f64::INFINITY, 3.0, f64::NEG_INFINITY];
        let svg = one("s", &samples);
        assert!(svg.contains("n=3,"));
        assert!(svg.contains("3 non-finite ignored"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn an_outlier_does_not_stretch_the_axis() {
        let mut samples = vec![10.0; 1000];
        samples.push(1.0e6);
        let svg = one("s", &samples);
        // p99 = 10 → need 11.5 → step 2 → the axis ends at 12.
        assert_eq!(last_x_tick(&svg), 12.0);
        assert!(svg.contains("max 1000000.0 ms"));
        // The outlier is pinned to the right edge, so the curve reaches it.
        assert!(svg.contains(&format!("{},{}", num(RIGHT), num(TOP))));
    }

    #[test]
    fn large_series_are_downsampled() {
        let samples: Vec<f64> = (0..100_000).map(|i| f64::from(i % 997) * 0.05).collect();
        let svg = one("s", &samples);
        let counts = polyline_points(&svg);
        assert_eq!(counts.len(), 1);
        assert!(counts[0] <= MAX_POINTS + 1, "{} points", counts[0]);
        assert!(svg.len() < 100_000, "{} bytes", svg.len());
    }

    #[test]
    fn small_series_draw_a_staircase() {
        let points = cdf_points(&[1.0, 2.0]);
        assert_eq!(points, vec![(1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (2.0, 1.0)]);
    }

    #[test]
    fn tick_steps_are_round() {
        for range in [0.1, 0.3, 0.7, 3.0, 11.5, 42.0, 999.0, 12_345.0] {
            let (bound, step) = x_axis(range);
            let mantissa = step / 10f64.powf(step.log10().floor());
            let round = [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-6);
            assert!(round, "step {step} for {range}");
            assert!(
                bound >= range - 1e-9 && bound < range + step + 1e-9,
                "bound {bound} for {range}"
            );
            let ticks = (bound / step).round();
            assert!((3.0..=10.0).contains(&ticks), "{ticks} ticks for {range}");
        }
        assert_eq!(nice_step(11.5, 6.0), 2.0);
        assert_eq!(nice_step(100.0, 6.0), 20.0);
        assert!((nice_step(0.3, 6.0) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn numbers_have_at_most_two_decimals() {
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(12.0), "12");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(-0.001), "0");
    }
}
