//! `iso20k-gen --incidents N --out DIR [--seed S]`: a bundle with N incidents, N/5 changes,
//! N/20 problems, N/10 configuration items and N/50 releases over the twelve months before
//! 2026-06-30, with the flaws real ticket data has at realistic rates. The same arguments always
//! give the same files, so benchmark runs compare like with like.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use jiff::civil::{DateTime, date};
use jiff::{Span, ToSpan};

/// SplitMix64: small, fast and reproducible; statistical quality is all a data generator needs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

const SERVICES: u64 = 30;

fn start() -> DateTime {
    date(2025, 7, 1).at(0, 0, 0, 0)
}

fn stamp(t: DateTime) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// A moment in the twelve months the data covers.
fn moment(r: &mut Rng) -> DateTime {
    start() + (r.below(364 * 24 * 60) as i64).minutes()
}

fn after(t: DateTime, r: &mut Rng, max_minutes: u64) -> DateTime {
    t + (1 + r.below(max_minutes) as i64).minutes()
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn as_of() -> DateTime {
    date(2026, 6, 30).at(0, 0, 0, 0)
}

fn main() -> anyhow::Result<()> {
    let mut incidents: u64 = 1_000_000;
    let mut out: Option<PathBuf> = None;
    let mut seed: u64 = 20_000;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--incidents" => {
                incidents = args.next().context("--incidents needs a number")?.parse()?
            }
            "--out" => out = Some(args.next().context("--out needs a folder")?.into()),
            "--seed" => seed = args.next().context("--seed needs a number")?.parse()?,
            other => bail!(
                "unknown argument {other}; usage: iso20k-gen --incidents N --out DIR [--seed S]"
            ),
        }
    }
    let out = out.context("--out DIR is required")?;
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .with_context(|| format!("cannot replace {}", out.display()))?;
    }
    iso20k_bundle::init(&out)?;
    services(&out)?;
    let mut r = Rng(seed);
    let cis = (incidents / 10).max(10);
    let changes = (incidents / 5).max(5);
    write_cis(&out, &mut r, cis)?;
    write_incidents(&out, &mut r, incidents, cis)?;
    write_problems(&out, &mut r, (incidents / 20).max(5))?;
    write_changes(&out, &mut r, changes)?;
    write_releases(&out, &mut r, (incidents / 50).max(2), changes)?;
    Ok(())
}

fn table(dir: &Path, name: &str, header: &str) -> anyhow::Result<BufWriter<File>> {
    let path = dir.join("tickets").join(name);
    let mut w = BufWriter::with_capacity(
        1 << 20,
        File::create(&path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    writeln!(w, "{header}")?;
    Ok(w)
}

fn services(dir: &Path) -> anyhow::Result<()> {
    let mut yaml = String::from("services:\n");
    for s in 1..=SERVICES {
        yaml.push_str(&format!(
            "  - id: SVC-{s:02}\n    name: Service {s:02}\n    owner: p.jones\n    customers: [Finance]\n    critical: false\n"
        ));
    }
    std::fs::write(dir.join("services.yaml"), yaml)?;
    Ok(())
}

/// A service as tickets name it: mostly the catalogue id, sometimes its name, rarely a service
/// the catalogue lacks.
fn service(r: &mut Rng) -> String {
    let s = 1 + r.below(SERVICES);
    if r.chance(0.001) {
        "Legacy print".to_owned()
    } else if r.chance(0.2) {
        format!("Service {s:02}")
    } else {
        format!("SVC-{s:02}")
    }
}

fn write_cis(dir: &Path, r: &mut Rng, n: u64) -> anyhow::Result<()> {
    let mut w = table(
        dir,
        "cis.csv",
        "id,name,type,owner,service,last_verified_on",
    )?;
    let types = ["server", "database", "application", "network", "storage"];
    for i in 1..=n {
        let owner = if r.chance(0.95) {
            format!("Group {}", 1 + r.below(40))
        } else {
            String::new()
        };
        let svc = if r.chance(0.97) {
            format!("SVC-{:02}", 1 + r.below(SERVICES))
        } else {
            String::new()
        };
        let verified = if r.chance(0.7) {
            (as_of().date() - (r.below(360) as i64).days()).to_string()
        } else if r.chance(0.8) {
            (as_of().date() - (370 + r.below(400) as i64).days()).to_string()
        } else {
            String::new()
        };
        writeln!(
            w,
            "CI{i:07},host-{i:07},{},{owner},{svc},{verified}",
            types[r.below(5) as usize]
        )?;
    }
    w.flush()?;
    Ok(())
}

fn write_incidents(dir: &Path, r: &mut Rng, n: u64, cis: u64) -> anyhow::Result<()> {
    let mut w = table(
        dir,
        "incidents.csv",
        "id,opened_at,resolved_at,closed_at,priority,major,category,service,ci,problem,resolution,sla_met,reopen_count,breach_review",
    )?;
    // A few configuration items are troublesome: they draw a tenth of all incidents, in bursts.
    let hot = (cis / 200).max(1);
    for i in 1..=n {
        let opened = moment(r);
        let priority = match r.below(1000) {
            0..=19 => "1",
            20..=99 => "2",
            100..=599 => "3",
            600..=949 => "4",
            950..=989 => "5",
            _ => "",
        };
        let resolved = after(
            opened,
            r,
            if priority == "1" { 8 * 60 } else { 5 * 24 * 60 },
        );
        let closed = after(resolved, r, 3 * 24 * 60);
        let is_closed = closed < as_of() && r.chance(0.96);
        let category = if r.chance(0.99) {
            format!("Category {}", 1 + r.below(60))
        } else {
            String::new()
        };
        let ci = if r.chance(0.1) {
            format!("CI{:07}", 1 + r.below(hot))
        } else if r.chance(0.97) {
            format!("CI{:07}", 1 + r.below(cis))
        } else {
            String::new()
        };
        let problem = if (priority == "1" && r.chance(0.95)) || r.chance(0.02) {
            format!("PRB{:07}", 1 + r.below(n / 20 + 1))
        } else {
            String::new()
        };
        let resolution = if is_closed && r.chance(0.995) {
            "Solved (permanently)"
        } else {
            ""
        };
        let sla = if is_closed { yes(r.chance(0.85)) } else { "" };
        let review = if sla == "no" && r.chance(0.7) {
            "Reviewed at the weekly SLA meeting"
        } else {
            ""
        };
        let reopened = if r.chance(0.01) { 1 } else { 0 };
        writeln!(
            w,
            "INC{i:07},{},{},{},{priority},{},{category},{},{ci},{problem},{resolution},{sla},{reopened},{review}",
            stamp(opened),
            if is_closed || r.chance(0.5) {
                stamp(resolved)
            } else {
                String::new()
            },
            if is_closed {
                stamp(closed)
            } else {
                String::new()
            },
            yes(r.chance(0.001)),
            service(r),
        )?;
    }
    w.flush()?;
    Ok(())
}

fn write_problems(dir: &Path, r: &mut Rng, n: u64) -> anyhow::Result<()> {
    let mut w = table(
        dir,
        "problems.csv",
        "id,opened_at,closed_at,service,root_cause,known_error,change",
    )?;
    for i in 1..=n {
        let opened = moment(r);
        let closed = after(opened, r, 60 * 24 * 60);
        let is_closed = closed < as_of() && r.chance(0.7);
        let cause = if r.chance(if is_closed { 0.9 } else { 0.4 }) {
            "Configuration drift after patching"
        } else {
            ""
        };
        let change = if is_closed && !cause.is_empty() && r.chance(0.6) {
            format!("CHG{:07}", 1 + r.below(n * 4))
        } else {
            String::new()
        };
        writeln!(
            w,
            "PRB{i:07},{},{},{},{cause},{},{change}",
            stamp(opened),
            if is_closed {
                stamp(closed)
            } else {
                String::new()
            },
            service(r),
            yes(r.chance(0.4)),
        )?;
    }
    w.flush()?;
    Ok(())
}

fn write_changes(dir: &Path, r: &mut Rng, n: u64) -> anyhow::Result<()> {
    let mut w = table(
        dir,
        "changes.csv",
        "id,type,service,requested_at,approved_at,approver,implemented_at,risk,backout_plan,test_plan,reviewed_on,successful",
    )?;
    for i in 1..=n {
        let kind = match r.below(100) {
            0..=39 => "standard",
            40..=94 => "normal",
            _ => "emergency",
        };
        let requested = moment(r);
        let mut approved = Some(after(requested, r, 72 * 60));
        let mut implemented = after(approved.unwrap_or(requested), r, 96 * 60);
        if kind == "normal" && r.chance(0.02) {
            // Approved only after it went in.
            implemented = after(requested, r, 60);
            approved = Some(implemented + Span::new().hours(1 + r.below(48) as i64));
        } else if kind != "standard" && r.chance(0.01) {
            approved = None;
        }
        let implemented = (implemented < as_of()).then_some(implemented);
        let successful = implemented.map(|_| match r.below(100) {
            0..=1 => "no",
            2..=4 => "",
            _ => "yes",
        });
        let reviewed = match (kind, implemented, successful) {
            ("emergency", Some(t), _) if r.chance(0.85) => {
                (t.date() + (1 + r.below(5) as i64).days()).to_string()
            }
            (_, Some(t), Some("no")) if r.chance(0.5) => (t.date() + 2.days()).to_string(),
            _ => String::new(),
        };
        writeln!(
            w,
            "CHG{i:07},{kind},{},{},{},{},{},{},{},{},{reviewed},{}",
            service(r),
            stamp(requested),
            approved.map(stamp).unwrap_or_default(),
            if approved.is_some() { "CAB" } else { "" },
            implemented.map(stamp).unwrap_or_default(),
            if r.chance(0.97) {
                ["low", "moderate", "high"][r.below(3) as usize]
            } else {
                ""
            },
            yes(r.chance(0.96)),
            yes(r.chance(0.95)),
            successful.unwrap_or(""),
        )?;
    }
    w.flush()?;
    Ok(())
}

fn write_releases(dir: &Path, r: &mut Rng, n: u64, changes: u64) -> anyhow::Result<()> {
    let mut w = table(dir, "releases.csv", "id,change,service,deployed_at,tested")?;
    for i in 1..=n {
        let change = match r.below(100) {
            0..=1 => String::new(),
            2 => format!("CHG{:07}", changes + 1 + r.below(1000)),
            _ => format!("CHG{:07}", 1 + r.below(changes)),
        };
        writeln!(
            w,
            "REL{i:06},{change},{},{},{}",
            service(r),
            stamp(moment(r)),
            yes(r.chance(0.96))
        )?;
    }
    w.flush()?;
    Ok(())
}
