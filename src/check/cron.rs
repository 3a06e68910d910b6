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
    let limits = [
        ("minute", 0, 59),
        ("hour", 0, 23),
        ("day of month", 1, 31),
        ("month", 1, 12),
        ("day of week", 0, 7),
    ];
    for (field, (name, lo, hi)) in fields.iter().zip(limits) {
        field_ok(field, lo, hi).map_err(|e| format!("{name} `{field}`: {e}"))?;
    }
    Ok(())
}

fn field_ok(field: &str, lo: u32, hi: u32) -> Result<(), String> {
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            let n: u32 = step
                .parse()
                .map_err(|_| format!("step `{step}` is not a number"))?;
            if n == 0 {
                return Err("a step of 0 never fires".into());
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        let (a, b) = range.split_once('-').unwrap_or((range, range));
        for v in [a, b] {
            let n: u32 = v.parse().map_err(|_| format!("`{v}` is not a number"))?;
            if n < lo || n > hi {
                return Err(format!("{n} is outside {lo}-{hi}"));
            }
        }
    }
    Ok(())
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
        ] {
            assert!(schedule(bad).is_err(), "{bad}");
        }
    }
}
