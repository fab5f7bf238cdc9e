//! The `Date` header: the current time as an IMF-fixdate, such as
//! `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110, section 5.6.7).
//!
//! An origin server with a clock must send `Date` in its 2xx, 3xx and 4xx
//! answers (RFC 9110, section 6.6.1): caches use it to work out how old an
//! answer is. The standard library gives us seconds since 1970 and no
//! calendar, so turning a day count into a year, a month and a day is done
//! here, in a few lines of arithmetic. The `httpdate` crate does the same
//! job well; this is one function, worth reading once, and not worth a
//! dependency.

// ANCHOR: names
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
// ANCHOR_END: names

// ANCHOR: civil_from_days
/// The calendar date `days` days after 1 January 1970, as (year, month
/// 1–12, day 1–31), in the proleptic Gregorian calendar.
///
/// The trick is to start the year on 1 March. Then the leap day, when
/// there is one, is the last day of the year, and the months from March
/// on have lengths that follow a fixed pattern (31, 30, 31, 30, 31, 31,
/// 30, …), which one line of integer arithmetic reproduces. Years come in
/// cycles of 400 (146,097 days) that repeat exactly, so the day count is
/// first cut into whole cycles, then years within the cycle. (This is
/// Howard Hinnant's `civil_from_days`, restricted to dates from 1970.)
pub fn civil_from_days(days: u64) -> (u64, u32, u32) {
    // Count from 1 March of year 0, a multiple of 400 years before 1970.
    let days = days + 719_468;
    let era = days / 146_097;
    let day_of_era = days % 146_097; // 0 ..= 146_096
    // Years of 365 days, with a leap day every 4 years, except every
    // 100 years, except every 400.
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: 0 is March, 11 is February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    // January and February belong to the next calendar year.
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month as u32, day as u32)
}
// ANCHOR_END: civil_from_days

// ANCHOR: imf_fixdate
/// `secs` seconds after 1970 as an IMF-fixdate: `Sun, 06 Nov 1994
/// 08:49:37 GMT`. Always GMT, always two digits, English names: the
/// format is fixed so that no one needs a locale to read it.
pub fn imf_fixdate(secs: u64) -> String {
    let days = secs / 86_400;
    let in_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        // 1 January 1970 was a Thursday.
        WEEKDAYS[(days % 7) as usize],
        MONTHS[month as usize - 1],
        in_day / 3_600,
        in_day % 3_600 / 60,
        in_day % 60
    )
}
// ANCHOR_END: imf_fixdate

// ANCHOR: now
/// The current time as an IMF-fixdate, formatted at most once a second
/// per thread.
///
/// Each worker thread keeps the last second it formatted and the text, so
/// a busy thread formats the date once a second, not once per answer. A
/// cache shared by all threads would need a lock that every answer takes;
/// one per thread needs none, and costs a few dozen bytes per thread.
pub fn now() -> String {
    with_now(str::to_string)
}

/// Calls `f` with the current time as an IMF-fixdate, lent from this
/// thread's cache: [`now`] without the copy, for the answer's `Date`
/// header, which is written straight into the answer's bytes.
pub fn with_now<R>(f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static LAST: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    // A clock set before 1970 is a broken clock; say 1970 rather than fail.
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    LAST.with_borrow_mut(|(second, text)| {
        if *second != secs {
            *second = secs;
            *text = imf_fixdate(secs);
        }
        f(text)
    })
}
// ANCHOR_END: now

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        let rows = [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            // The example in RFC 9110, section 5.6.7.
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            // 2000 is a leap year (divisible by 400)…
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (951_868_799, "Tue, 29 Feb 2000 23:59:59 GMT"),
            // …2100 is not (divisible by 100 but not 400).
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
            (4_107_542_399, "Sun, 28 Feb 2100 23:59:59 GMT"),
            (1_735_689_599, "Tue, 31 Dec 2024 23:59:59 GMT"),
            (1_735_689_600, "Wed, 01 Jan 2025 00:00:00 GMT"),
            // The last second a signed 32-bit clock can count.
            (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"),
        ];
        for (secs, expected) in rows {
            assert_eq!(imf_fixdate(secs), expected, "{secs}");
        }
    }

    /// Walks day by day from 1970 to 2400 and checks that each date
    /// follows from the one before: the same month and the next day, or
    /// the first of the next month once the month is full.
    #[test]
    fn every_day_follows_the_one_before() {
        let month_length = |year: u64, month: u32| match month {
            2 if year.is_multiple_of(4)
                && (!year.is_multiple_of(100) || year.is_multiple_of(400)) =>
            {
                29
            }
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..157_000 {
            let (year, month, day) = previous;
            let expected = if day < month_length(year, month) {
                (year, month, day + 1)
            } else if month < 12 {
                (year, month + 1, 1)
            } else {
                (year + 1, 1, 1)
            };
            let got = civil_from_days(days);
            assert_eq!(got, expected, "day {days}");
            previous = got;
        }
    }

    #[test]
    fn now_is_cached_text_of_the_right_shape() {
        let date = now();
        assert_eq!(date.len(), 29, "{date}");
        assert!(date.ends_with(" GMT"), "{date}");
    }
}
