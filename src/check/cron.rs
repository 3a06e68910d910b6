//! Cron schedules as Kubernetes CronJobs read them: five fields, or a macro (@daily, ...).

/// Checks a schedule; `Err(reason)` names the first bad field.
pub fn schedule(text: &str) -> Result<(), String> {
    if let Some(name) = text.strip_prefix('@') {
        return match name {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(format!(
                "`@{name}` is not a schedule macro (@hourly, @daily, @weekly, @monthly, @yearly)"
            )),
        };
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "has {} fields; a schedule has 5: minute hour day-of-month month day-of-week",
            fields.len()
        ));
    }
    let limits: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day of week", 0, 7, &WEEKDAYS),
    ];
    let mut values = [0u64; 5];
    for (i, (field, (name, lo, hi, names))) in fields.iter().zip(limits).enumerate() {
        values[i] =
            field_values(field, lo, hi, names).map_err(|e| format!("{name} `{field}`: {e}"))?;
    }
    // With a `*` day of week, a run needs a listed day in a listed month (otherwise
    // either day field matching is enough, and every month has every weekday).
    let any_weekday = fields[4].starts_with(['*', '?']);
    if any_weekday && !day_occurs(values[2], values[3]) {
        return Err(format!(
            "never runs: day of month `{}` does not occur in month `{}` (February has at most 29 days; April, June, September and November 30)",
            fields[2], fields[3]
        ));
    }
    Ok(())
}

/// The names a month may go by (from 1), as in Kubernetes' cron parser (any case).
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The names a day of the week may go by (from 0, Sunday).
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One value of a field: a number in `lo..=hi`, or one of `names` (the first is `lo`).
fn value(text: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        return Ok(lo + u32::try_from(i).unwrap_or(0));
    }
    let n: u32 = text.parse().map_err(|_| match names {
        [] => format!("`{text}` is not a number"),
        _ => format!(
            "`{text}` is neither a number nor a name ({})",
            names.join(", ").to_uppercase()
        ),
    })?;
    if n < lo || n > hi {
        return Err(format!("{n} is outside {lo}-{hi}"));
    }
    Ok(n)
}

/// The longest each month (1-12) can be: February has 29 days in leap years.
const MONTH_DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Whether some day of `days` (bit n: day n) falls in some month of `months` (bit n: month n).
fn day_occurs(days: u64, months: u64) -> bool {
    (1..=12u32)
        .filter(|m| months & (1 << m) != 0)
        .any(|m| days & ((1u64 << (MONTH_DAYS[m as usize - 1] + 1)) - 2) != 0)
}

/// The values one field matches, as bits (bit n: value n), or why it is invalid.
fn field_values(field: &str, lo: u32, hi: u32, names: &[&str]) -> Result<u64, String> {
    let mut bits = 0u64;
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        let step = match step {
            Some(step) => step
                .parse::<u32>()
                .map_err(|_| format!("step `{step}` is not a number"))?,
            None => 1,
        };
        if step == 0 {
            return Err("a step of 0 never fires".into());
        }
        let (a, b) = if range == "*" || range == "?" {
            (lo, hi)
        } else {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            let mut bounds = [0; 2];
            for (bound, v) in bounds.iter_mut().zip([a, b]) {
                *bound = value(v, lo, hi, names)?;
            }
            // `N/step` runs from N to the field's end.
            let end = if step > 1 && !range.contains('-') {
                hi
            } else {
                bounds[1]
            };
            (bounds[0], end)
        };
        if a > b {
            return Err(format!("the range `{range}` runs backwards"));
        }
        bits |= (a..=b)
            .step_by(step as usize)
            .fold(0, |acc, n| acc | 1 << n);
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::schedule;

    #[test]
    fn schedules() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0 1,15 * 1-5",
            "@daily",
            "30 2 * * 0",
            "0 7 29 2 *",
            "0 7 31 2,3 *",
            "0 7 31 2 1",
            "0 7 */5 2 *",
            "5/15 * * * *",
            "0 9 * * MON-FRI",
            "0 9 1 jan,Jul *",
            "0 0 * DEC sun",
        ] {
            assert!(schedule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "0 3 * *",
            "61 * * * *",
            "0 24 * * *",
            "* * 0 * *",
            "*/0 * * * *",
            "@sometimes",
            "a b c d e",
            "0 7 31 2 *",
            "0 7 30,31 2 *",
            "0 0 31 4,6,9,11 *",
            "0 0 10-5 * *",
            "0 9 * * MONDAY",
            "0 9 JAN * *",
            "0 9 * * FRI-MON",
        ] {
            assert!(schedule(bad).is_err(), "{bad}");
        }
    }
}
