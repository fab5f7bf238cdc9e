//! Turning the benchmark's medians CSV into SVG charts for the book.
//!
//! Hand-written SVG keeps the book free of JavaScript and of a plotting
//! dependency: a chart here is a few lines, rectangles and labels.

use std::collections::BTreeMap;
use std::fmt::Write as _;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 380.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 7] = [
    "#9e9e9e", "#7cb342", "#fbc02d", "#fb8c00", "#1e88e5", "#8e24aa", "#e53935",
];

/// One line of the medians CSV, keyed by (stage, scenario, connections).
pub type Medians = BTreeMap<(String, String, usize), BTreeMap<String, f64>>;

/// Reads the medians CSV that the benchmark writes.
pub fn read_medians(csv: &str) -> Result<Medians, String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().ok_or("an empty CSV")?.split(',').collect();
    let mut medians = Medians::new();
    for line in lines.filter(|line| !line.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        if cells.len() != header.len() {
            return Err(format!("a line with {} cells: {line}", cells.len()));
        }
        let connections = cells[2]
            .parse()
            .map_err(|_| format!("bad connections in {line}"))?;
        let values = header
            .iter()
            .zip(&cells)
            .skip(4)
            .filter_map(|(name, cell)| Some((name.to_string(), cell.parse::<f64>().ok()?)))
            .collect();
        medians.insert(
            (cells[0].to_string(), cells[1].to_string(), connections),
            values,
        );
    }
    Ok(medians)
}

fn value(
    medians: &Medians,
    stage: &str,
    scenario: &str,
    connections: usize,
    field: &str,
) -> Option<f64> {
    medians
        .get(&(stage.to_string(), scenario.to_string(), connections))
        .and_then(|values| values.get(field).copied())
}

/// The three charts the book shows, as `(file name, SVG)`.
pub fn charts(medians: &Medians, machine: &str) -> Vec<(&'static str, String)> {
    let connections = [1, 16, 64, 256];
    let mut series = Vec::new();
    for stage in ["day1", "day2", "day3", "day4", "final"] {
        let values = connections
            .iter()
            .map(|c| value(medians, stage, "hello", *c, "requests_per_second"))
            .collect();
        // wrk asks every stage to keep the connection open, but only the
        // final server does: the day stages answer `Connection: close`.
        let name = if stage == "final" {
            "final, keep-alive".to_string()
        } else {
            format!("{stage}, closes each time")
        };
        series.push((name, values));
    }
    series.push((
        "day4, wrk asks to close".to_string(),
        connections
            .iter()
            .map(|c| value(medians, "day4", "hello-close", *c, "requests_per_second"))
            .collect(),
    ));
    series.push((
        "final, GET /todos/1".to_string(),
        connections
            .iter()
            .map(|c| value(medians, "final", "todos-1", *c, "requests_per_second"))
            .collect(),
    ));
    let throughput = line_chart(
        "GET /hello: requests per second by connections",
        &connections.map(|c| c.to_string()),
        &series,
        machine,
    );

    // Latency, not throughput: how long a client waits for a handler that
    // itself takes 200 ms. The rest is time spent in line.
    let sleepers: Vec<(String, f64)> = ["day3", "day4", "final"]
        .iter()
        .flat_map(|stage| {
            [("p50", "p50_ms"), ("p99", "p99_ms")]
                .into_iter()
                .filter_map(move |(label, field)| {
                    let ms = value(medians, stage, "sleep-200ms", 16, field)?;
                    Some((format!("{stage} {label}"), ms))
                })
        })
        .collect();
    let slow = bar_chart(
        "GET /sleep?ms=200, 16 connections: milliseconds a client waits",
        &sleepers,
        machine,
    );

    let unserved: Vec<(String, f64)> = ["day1", "day2", "day3", "day4", "day4-keep-alive", "final"]
        .iter()
        .filter_map(|stage| {
            let count = value(medians, stage, "hello", 256, "unserved")?;
            Some((stage.to_string(), count))
        })
        .collect();
    let unserved = bar_chart(
        "256 connections: how many never got an answer",
        &unserved,
        machine,
    );

    vec![
        ("throughput.svg", throughput),
        ("slow-handler.svg", slow),
        ("unserved.svg", unserved),
    ]
}

/// The charts of `bench --peers`, as `(file name, SVG)`: requests per
/// second on `/hello` and on `/todos/1`, `final` against the peers, by
/// connections.
pub fn peer_charts(medians: &Medians, machine: &str) -> Vec<(&'static str, String)> {
    let connections = crate::PEER_CONNECTIONS;
    let labels = connections.map(|c| c.to_string());
    let contenders = peer_contenders(medians);
    let chart = |scenario: &str, title: &str| {
        let series: Vec<(String, Vec<Option<f64>>)> = contenders
            .iter()
            .map(|contender| {
                let values = connections
                    .iter()
                    .map(|c| value(medians, contender, scenario, *c, "requests_per_second"))
                    .collect();
                (contender.to_string(), values)
            })
            .collect();
        line_chart(title, &labels, &series, machine)
    };
    vec![
        (
            "peers-hello.svg",
            chart("hello", "GET /hello, kept open: requests per second"),
        ),
        (
            "peers-todos.svg",
            chart("todos-1", "GET /todos/1, kept open: requests per second"),
        ),
    ]
}

/// Who `bench --peers` measured: `final`, the other builds of it, then
/// the peers.
fn peer_contenders(medians: &Medians) -> Vec<String> {
    let peers = crate::Peer::ALL.map(crate::Peer::name);
    let mut names = vec!["final".to_string()];
    for (name, _, _) in medians.keys() {
        if !names.contains(name) && !peers.contains(&name.as_str()) {
            names.push(name.clone());
        }
    }
    names.extend(peers.map(String::from));
    names
}

// ANCHOR: peer_table
/// The table the benchmark chapter shows: for each scenario and number
/// of connections, every contender's requests per second as a ratio to
/// axum's in the same run, then `final`'s as a ratio to each other peer's
/// (to the floor's: how close `final` comes to the least a server can
/// cost), then `final`'s requests per second, `final`'s and axum's p99
/// latency, and for `final` and every peer the errors wrk counted, the
/// connections never served, and peak memory.
pub fn peer_table(medians: &Medians) -> String {
    let contenders: Vec<String> = peer_contenders(medians)
        .into_iter()
        .filter(|name| name != "axum")
        .collect();
    let peers = crate::Peer::ALL.map(crate::Peer::name);
    let others: Vec<&str> = peers.into_iter().filter(|name| *name != "axum").collect();
    let everyone = format!("final, {}", peers.join(", "));
    let mut table = String::from("| request | conns |");
    for name in &contenders {
        let _ = write!(table, " {name} / axum |");
    }
    for name in &others {
        let _ = write!(table, " final / {name} |");
    }
    let _ = writeln!(
        table,
        " final req/s | p99 final, axum (ms) | errors {everyone} | unserved {everyone} | peak RSS {everyone} (MiB) |"
    );
    table.push_str("|---|---|");
    table.push_str(&"---|".repeat(contenders.len() + others.len() + 5));
    table.push('\n');
    let cell =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    for (scenario, request) in [
        ("hello", "/hello"),
        ("todos-1", "/todos/1"),
        ("sleep-200ms", "/sleep"),
    ] {
        let mut counts: Vec<usize> = medians
            .keys()
            .filter(|(name, s, _)| name == "final" && s == scenario)
            .map(|(_, _, c)| *c)
            .collect();
        counts.sort_unstable();
        for connections in counts {
            let get = |name: &str, field: &str| value(medians, name, scenario, connections, field);
            let ratio = |name: &str, to: &str| {
                let rate = |name| get(name, "requests_per_second");
                rate(name).zip(rate(to)).map(|(v, to)| v / to)
            };
            let _ = write!(table, "| {request} | {connections} |");
            for name in &contenders {
                let _ = write!(table, " {} |", cell(ratio(name, "axum"), 2));
            }
            for name in &others {
                let _ = write!(table, " {} |", cell(ratio("final", name), 2));
            }
            // One cell for final and every peer, comma-separated.
            let each = |field: &str, scale: f64, digits: usize| {
                ["final"]
                    .into_iter()
                    .chain(peers)
                    .map(|name| cell(get(name, field).map(|v| v / scale), digits))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(
                table,
                " {} | {}, {} | {} | {} | {} |",
                cell(get("final", "requests_per_second"), 0),
                cell(get("final", "p99_ms"), 2),
                cell(get("axum", "p99_ms"), 2),
                each("errors", 1.0, 0),
                each("unserved", 1.0, 0),
                each("peak_rss_kib", 1024.0, 1),
            );
        }
    }
    table
}
// ANCHOR_END: peer_table

/// The storage results, keyed by (contender, measure, store, connections).
pub type StorageMedians = BTreeMap<(String, String, String, usize), f64>;

/// Reads the medians CSV of the storage scenario (see [`crate::storage`]).
pub fn read_storage(csv: &str) -> Result<StorageMedians, String> {
    let mut medians = StorageMedians::new();
    for line in csv.lines().skip(1).filter(|line| !line.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let [contender, measure, store, connections, _run, value] = cells[..] else {
            return Err(format!("a storage line with {} cells: {line}", cells.len()));
        };
        let connections = connections
            .parse()
            .map_err(|_| format!("bad connections in {line}"))?;
        let value = value.parse().map_err(|_| format!("bad value in {line}"))?;
        medians.insert(
            (
                contender.to_string(),
                measure.to_string(),
                store.to_string(),
                connections,
            ),
            value,
        );
    }
    Ok(medians)
}

// ANCHOR: storage_chart
/// Durable POSTs per second, old store against new, by store size and
/// connections, with the disk's own append+sync rate as a line across.
pub fn storage_chart(medians: &StorageMedians, machine: &str) -> String {
    let get = |contender: &str, measure: &str, store: &str, connections: usize| {
        medians
            .get(&(
                contender.to_string(),
                measure.to_string(),
                store.to_string(),
                connections,
            ))
            .copied()
    };
    // The big store's name is its size, whatever the run used.
    let big = medians
        .keys()
        .find(|(_, measure, store, _)| measure == "post" && store != "empty")
        .map_or_else(|| "100000".to_string(), |(_, _, store, _)| store.clone());
    let groups: Vec<(String, String, usize)> = [
        ("empty", 1),
        ("empty", 16),
        (big.as_str(), 1),
        (big.as_str(), 16),
    ]
    .iter()
    .map(|(store, connections)| {
        let label = if *store == "empty" {
            "empty".to_string()
        } else {
            format!("{} to-dos", short(store.parse().unwrap_or(0.0)))
        };
        (
            format!("{label}, {connections} conn"),
            store.to_string(),
            *connections,
        )
    })
    .collect();
    let series = [
        ("rewrite", "rewrite the file (before)", "#9e9e9e"),
        ("log", "log + group commit", "#1e88e5"),
    ];
    let raw = get("log", "append+sync", "-", 1);
    let max = groups
        .iter()
        .flat_map(|(_, store, connections)| {
            series
                .iter()
                .filter_map(move |(contender, _, _)| get(contender, "post", store, *connections))
        })
        .chain(raw)
        .fold(0.0f64, f64::max);
    let top = axis_top(max);
    let mut svg = frame("Durable POST /todos per second", top, machine);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / groups.len() as f64;
    let bar = slot * 0.8 / series.len() as f64;
    let y = |v: f64| TOP + plot_height * (1.0 - v / top);
    for (g, (label, store, connections)) in groups.iter().enumerate() {
        let left = LEFT + slot * g as f64 + slot * 0.1;
        for (n, (contender, _, color)) in series.iter().enumerate() {
            let Some(value) = get(contender, "post", store, *connections) else {
                continue;
            };
            let x = left + bar * n as f64;
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                y(value),
                bar * 0.9,
                plot_height - (y(value) - TOP),
                x + bar * 0.45,
                y(value) - 4.0,
                short(value)
            );
        }
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"#,
            left + slot * 0.4,
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    for (n, (_, name, color)) in series.iter().enumerate() {
        let legend_y = TOP + 16.0 * n as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="12" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            WIDTH - RIGHT + 12.0,
            legend_y - 4.0,
            WIDTH - RIGHT + 30.0,
            legend_y + 5.0,
            escape(name)
        );
    }
    if let Some(raw) = raw {
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1:.1}" y2="{0:.1}" stroke="#e53935" stroke-dasharray="6 4"/><text x="{2:.1}" y="{3:.1}" fill="#e53935">disk: append+sync</text><text x="{2:.1}" y="{4:.1}" fill="#e53935">{5}/s, one at a time</text>"##,
            y(raw),
            WIDTH - RIGHT,
            WIDTH - RIGHT + 12.0,
            TOP + 48.0,
            TOP + 62.0,
            short(raw)
        );
    }
    svg.push_str("</svg>\n");
    svg
}
// ANCHOR_END: storage_chart

/// A round number at or above `max`, for the top of an axis.
fn axis_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

fn frame(title: &str, top: f64, machine: &str) -> String {
    let mut svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>
<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{}</text>
<text x="{LEFT}" y="{}" fill="#666" font-size="11">{}</text>
"##,
        escape(title),
        HEIGHT - 6.0,
        escape(machine)
    );
    let plot_height = HEIGHT - TOP - BOTTOM;
    for i in 0..=4 {
        let y = TOP + plot_height * f64::from(i) / 4.0;
        let label = top * f64::from(4 - i) / 4.0;
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            short(label)
        );
    }
    svg
}

/// `12500` as `12.5k`.
fn short(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.1}k", value / 1000.0).replace(".0k", "k")
    } else if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Lines over categories: one per series, with a legend on the right.
pub fn line_chart(
    title: &str,
    x_labels: &[String],
    series: &[(String, Vec<Option<f64>>)],
    machine: &str,
) -> String {
    let max = series
        .iter()
        .flat_map(|(_, values)| values.iter().flatten())
        .fold(0.0f64, |a, b| a.max(*b));
    let top = axis_top(max);
    let mut svg = frame(title, top, machine);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| LEFT + plot_width * (i as f64 + 0.5) / x_labels.len() as f64;
    let y = |v: f64| TOP + plot_height * (1.0 - v / top);
    for (i, label) in x_labels.iter().enumerate() {
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i),
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">connections</text>"#,
        LEFT + plot_width / 2.0,
        HEIGHT - BOTTOM + 33.0
    );
    for (n, (name, values)) in series.iter().enumerate() {
        let color = COLORS[n % COLORS.len()];
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
            .collect();
        if points.is_empty() {
            continue;
        }
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            points.join(" ")
        );
        for point in &points {
            let (px, py) = point.split_once(',').unwrap_or(("0", "0"));
            let _ = writeln!(svg, r#"<circle cx="{px}" cy="{py}" r="3" fill="{color}"/>"#);
        }
        let legend_y = TOP + 16.0 * n as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{:.1}" y="{:.1}" width="12" height="3" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            WIDTH - RIGHT + 12.0,
            legend_y,
            WIDTH - RIGHT + 30.0,
            legend_y + 5.0,
            escape(name)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// One bar per label, with its value written above it.
pub fn bar_chart(title: &str, bars: &[(String, f64)], machine: &str) -> String {
    let max = bars.iter().fold(0.0f64, |a, (_, v)| a.max(*v));
    let top = axis_top(max);
    let mut svg = frame(title, top, machine);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let slot = plot_width / bars.len().max(1) as f64;
    for (i, (label, value)) in bars.iter().enumerate() {
        let height = plot_height * value / top;
        let x = LEFT + slot * i as f64 + slot * 0.2;
        let y = TOP + plot_height - height;
        let color = COLORS[(i + 2) % COLORS.len()];
        let _ = writeln!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{height:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            slot * 0.6,
            x + slot * 0.3,
            y - 6.0,
            short(*value),
            x + slot * 0.3,
            HEIGHT - BOTTOM + 18.0,
            escape(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_medians_and_draws_every_chart() {
        let csv = "stage,scenario,connections,run,requests_per_second,p50_ms,p99_ms,errors,peak_rss_kib,unserved\n\
                   final,hello,256,median,42000,2.8,31.4,0,10040,0\n\
                   day4,hello,256,median,16000,9.0,60.0,0,3000,12\n\
                   final,sleep-200ms,16,median,79,201,205,0,3000,0\n";
        let medians = read_medians(csv).expect("a valid CSV");
        assert_eq!(value(&medians, "final", "hello", 256, "p99_ms"), Some(31.4));
        let charts = charts(&medians, "2 cores");
        assert_eq!(charts.len(), 3);
        for (name, svg) in charts {
            assert!(
                svg.starts_with("<svg") && svg.ends_with("</svg>\n"),
                "{name}"
            );
        }
    }

    #[test]
    fn only_the_final_server_is_labelled_keep_alive() {
        let mut csv = String::from(
            "stage,scenario,connections,run,requests_per_second,p50_ms,p99_ms,errors,peak_rss_kib,unserved\n",
        );
        for stage in ["day1", "day2", "day3", "day4", "final"] {
            csv.push_str(&format!("{stage},hello,16,median,1000,1,2,0,2000,0\n"));
        }
        let medians = read_medians(&csv).expect("a valid CSV");
        let (_, throughput) = &charts(&medians, "2 cores")[0];
        assert!(throughput.contains(">final, keep-alive<"));
        for stage in ["day1", "day2", "day3", "day4"] {
            assert!(throughput.contains(&format!(">{stage}, closes each time<")));
        }
        assert_eq!(throughput.matches("keep-alive").count(), 1);
    }

    #[test]
    fn reads_storage_results_and_draws_their_chart() {
        let csv = "contender,measure,store,connections,run,value\n\
                   log,append+sync,-,1,median,5000\n\
                   log,post,empty,1,median,4200\n\
                   log,post,100000,16,median,21000\n\
                   rewrite,post,100000,1,median,12\n";
        let medians = read_storage(csv).expect("a valid CSV");
        assert_eq!(medians.len(), 4);
        let svg = storage_chart(&medians, "2 cores");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("100k to-dos, 16 conn") && svg.contains("21k"));
        assert!(read_storage("h\nnot,enough").is_err());
    }

    #[test]
    fn draws_the_peer_charts() {
        let csv = "stage,scenario,connections,run,requests_per_second,p50_ms,p99_ms,errors,peak_rss_kib,unserved\n\
                   final,hello,2048,median,42000,2.8,31.4,0,10040,0\n\
                   axum,todos-1,16,median,99000,0.1,0.5,0,9000,0\n";
        let medians = read_medians(csv).expect("a valid CSV");
        let charts = peer_charts(&medians, "2 cores");
        assert_eq!(charts.len(), 2);
        // Every count on the axis; a line, and a legend, where there is data.
        assert!(charts[0].1.contains(">2048<") && charts[0].1.contains(">final<"));
        assert!(charts[1].1.contains(">axum<") && !charts[1].1.contains(">tiny_http<"));
        assert!(charts.iter().all(|(_, svg)| svg.ends_with("</svg>\n")));
    }

    #[test]
    fn the_peer_table_gives_ratios_to_axum_and_to_the_floor() {
        let csv = "stage,scenario,connections,run,requests_per_second,p50_ms,p99_ms,errors,peak_rss_kib,unserved\n\
                   final,hello,16,median,90000,0.1,0.5,0,4096,0\n\
                   before,hello,16,median,45000,0.1,0.9,0,4096,0\n\
                   axum,hello,16,median,100000,0.1,0.6,0,8192,0\n\
                   floor,hello,16,median,180000,0.1,0.2,0,2048,0\n";
        let table = peer_table(&read_medians(csv).expect("a valid CSV"));
        let mut lines = table.lines();
        assert_eq!(
            lines.next(),
            Some(
                "| request | conns | final / axum | before / axum | tiny_http / axum | may_minihttp / axum | floor / axum \
                 | final / tiny_http | final / may_minihttp | final / floor | final req/s | p99 final, axum (ms) \
                 | errors final, axum, tiny_http, may_minihttp, floor \
                 | unserved final, axum, tiny_http, may_minihttp, floor \
                 | peak RSS final, axum, tiny_http, may_minihttp, floor (MiB) |"
            )
        );
        let rule = lines.next().expect("a rule");
        assert_eq!(rule.matches("---").count(), 15);
        assert_eq!(
            lines.next(),
            Some(
                "| /hello | 16 | 0.90 | 0.45 | - | - | 1.80 | - | - | 0.50 | 90000 | 0.50, 0.60 \
                 | 0, 0, -, -, 0 | 0, 0, -, -, 0 | 4.0, 8.0, -, -, 2.0 |"
            )
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(axis_top(42_000.0), 50_000.0);
        assert_eq!(axis_top(12.0), 20.0);
        assert_eq!(axis_top(0.0), 1.0);
    }
}
