//! The whole system on awkward calendar days, not only on the day the suite runs: `bybit-sim
//! --now` lists expiries around the next one-digit days (the seed's `03DEC26` against the
//! symbols' `3DEC26`), a month end, the turn of a year and a leap day. The module judges expiry
//! by the real clock, so every simulated day lies ahead of it. On each day: every listed
//! contract reaches Redis, `OPTIONS.EXPIRIES` and `/api/expiries` list the sim's delivery dates
//! in date order, each expiry in each spelling selects exactly its contracts, and the dashboard
//! (tests/browser/calendar.mjs in Chromium) offers, filters and charts every expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use options_core::clock::now_ms;
use options_core::Expiry;
use options_tests::browser;
use options_tests::procs::{wait_for, Feeder, Sim, Web};
use options_tests::{json, RedisServer};
use serde_json::Value;

const DAY_MS: i64 = 86_400_000;
const NINE_AM_MS: i64 = 9 * 3_600_000;

fn date(days: i64) -> Expiry {
    Expiry::from_unix_days(days).expect("date within 2000..2099")
}

/// 09:00 UTC of `day` (after that day's 08:00 delivery, so its dailies start the next day).
fn nine_am(day: Expiry) -> i64 {
    day.days_since_epoch() * DAY_MS + NINE_AM_MS
}

/// The first day after today for which `pick` holds.
fn next_day(pick: impl Fn(Expiry, Expiry) -> bool) -> Expiry {
    let today = now_ms().div_euclid(DAY_MS);
    (today + 1..today + 3 * 366)
        .map(date)
        .find(|d| pick(*d, date(d.days_since_epoch() + 1)))
        .expect("such a day within three years")
}

/// The simulated day of each case, chosen from today's date.
fn sim_now(case: &str) -> Option<i64> {
    let day = match case {
        "today" => return None,
        // The 1st: its dailies fall on the 2nd, 3rd and 4th, and its Fridays on one-digit days.
        "one-digit days" => next_day(|d, _| d.day() == 1),
        // The last day of a month other than December: dailies cross into the next month.
        "month end" => next_day(|d, next| next.month() != d.month() && d.month() != 12),
        "year end" => next_day(|d, _| d.month() == 12 && d.day() == 31),
        // 28 February of a leap year: dailies on the 29th, 1 and 2 March.
        "leap day" => next_day(|d, next| d.month() == 2 && d.day() == 28 && next.day() == 29),
        other => panic!("unknown case {other}"),
    };
    Some(nine_am(day))
}

/// Delivery date → number of BTC contracts the sim lists on it (both settle coins).
fn sim_listing(sim: &Sim) -> BTreeMap<Expiry, usize> {
    let mut out = BTreeMap::new();
    for settle in ["USDC", "USDT"] {
        let mut cursor = String::new();
        loop {
            let body: Value = sim
                .get(
                    "/v5/market/instruments-info",
                    &[
                        ("category", "option"),
                        ("baseCoin", "BTC"),
                        ("settleCoin", settle),
                        ("limit", "1000"),
                        ("cursor", &cursor),
                    ],
                )
                .json()
                .expect("instruments JSON");
            assert_eq!(body["retCode"], 0, "{body}");
            for i in body["result"]["list"].as_array().expect("list") {
                let ms: i64 = i["deliveryTime"].as_str().unwrap().parse().unwrap();
                *out.entry(date(ms.div_euclid(DAY_MS))).or_default() += 1;
            }
            cursor = body["result"]["nextPageCursor"]
                .as_str()
                .unwrap_or("")
                .into();
            if cursor.is_empty() {
                break;
            }
        }
    }
    out
}

fn run_case(case: &str) {
    let server = RedisServer::start(&[]);
    let now_arg = sim_now(case).map(|ms| ms.to_string());
    let mut sim_args = vec!["--seed", "11", "--assets", "BTC"];
    if let Some(at) = &now_arg {
        assert!(
            at.parse::<i64>().unwrap() > now_ms(),
            "{case}: the simulated day must lie ahead of the module's clock"
        );
        sim_args.extend(["--now", at]);
    }
    let sim = Sim::start(&sim_args);
    let listing = sim_listing(&sim);
    let total: usize = listing.values().sum();
    assert!(listing.len() >= 5, "{case}: sim lists {listing:?}");
    let mut feeder = Feeder::start(&sim, &server.url(), "BTC", &[]);
    feeder.wait_ready(Duration::from_secs(30));
    let mut con = server.connection();
    wait_for(Duration::from_secs(20), "every contract in Redis", || {
        let stats = options_client::cmd::Stats { key: "BTC".into() };
        let stats = options_tests::run(&mut con, &stats).expect("stats");
        (stats.contracts == total as u64).then_some(())
    });

    let want_iso: Vec<String> = listing.keys().map(Expiry::iso).collect();
    let listed =
        options_tests::run(&mut con, &options_client::cmd::Expiries::new("BTC")).expect("expiries");
    let module_iso: Vec<String> = listed
        .iter()
        .map(|e| Expiry::parse(e).unwrap().iso())
        .collect();
    assert_eq!(
        module_iso, want_iso,
        "{case}: OPTIONS.EXPIRIES, in date order"
    );

    let web = Web::start(
        &server.url(),
        &["--assets", "BTC", "--bybit-rest-url", &sim.rest_url()],
    );
    let (status, expiries) = web.get("/api/expiries/BTC", &[]);
    assert_eq!(status, 200, "{expiries}");
    let web_iso: Vec<String> = expiries
        .as_array()
        .unwrap_or_else(|| panic!("{case}: /api/expiries/BTC gave {expiries}"))
        .iter()
        .map(|e| Expiry::parse(e.as_str().unwrap()).unwrap().iso())
        .collect();
    assert_eq!(
        web_iso, want_iso,
        "{case}: /api/expiries/BTC, in date order"
    );

    for (expiry, count) in &listing {
        for spelling in [expiry.code(), expiry.padded(), expiry.iso()] {
            let q = json(
                &mut con,
                &[
                    "OPTIONS.QUERY",
                    "BTC",
                    "EXPIRY",
                    &spelling,
                    "FIELDS",
                    "1",
                    "strike",
                    "FORMAT",
                    "JSON",
                ],
            );
            assert_eq!(
                q["total"], *count,
                "{case}: OPTIONS.QUERY EXPIRY {spelling}"
            );
            let (status, rows) = web.get("/api/options/BTC", &[("expiry", &spelling)]);
            assert_eq!(status, 200, "{case}: /api/options/BTC?expiry={spelling}");
            let rows = rows.as_array().expect("rows");
            assert_eq!(
                rows.len(),
                *count,
                "{case}: /api/options/BTC?expiry={spelling}"
            );
            assert!(
                rows.iter().all(|r| {
                    Expiry::parse(r["expiry"].as_str().unwrap()).ok() == Some(*expiry)
                }),
                "{case}: rows of another expiry for {spelling}"
            );
        }
    }

    browser::run(
        "calendar.mjs",
        &web,
        &[
            ("SIM_URL", sim.rest_url()),
            ("CALENDAR_LABEL", case.to_string()),
        ],
        "all calendar checks passed",
    );
}

#[test]
fn today() {
    run_case("today");
}

#[test]
fn one_digit_days() {
    run_case("one-digit days");
}

#[test]
fn month_end() {
    run_case("month end");
}

#[test]
fn year_end() {
    run_case("year end");
}

#[test]
fn leap_day() {
    run_case("leap day");
}

#[test]
fn the_cases_are_the_days_they_claim() {
    let day = |case| date(sim_now(case).unwrap().div_euclid(DAY_MS));
    assert_eq!(day("one-digit days").day(), 1);
    let end = day("month end");
    assert_ne!(date(end.days_since_epoch() + 1).month(), end.month());
    assert_ne!(end.month(), 12);
    assert_eq!((day("year end").month(), day("year end").day()), (12, 31));
    let leap = day("leap day");
    assert_eq!(date(leap.days_since_epoch() + 1).day(), 29);
    for case in ["one-digit days", "month end", "year end", "leap day"] {
        assert!(sim_now(case).unwrap() > now_ms(), "{case} lies ahead");
    }
}
