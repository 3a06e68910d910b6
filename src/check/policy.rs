//! Checks of `[policy]`: waivers name real rules, give a reason, and expire on a real date.

use super::Ctx;
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::model::Policy;
use crate::plan::{PolicyPlan, WaiverPlan};
use crate::policy::rules::RULES;

pub(super) fn policy(ctx: &mut Ctx, policy: &Policy) -> PolicyPlan {
    let mut waivers = Vec::new();
    for (i, waiver) in policy.waive.iter().enumerate() {
        let index = i.to_string();
        let at = |key: &str| ["policy", "waive", index.as_str(), key].map(str::to_owned);
        let span_of = |ctx: &Ctx, key: &str| {
            let path = at(key);
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            ctx.value_span(&path)
        };
        if !RULES.iter().any(|r| r.id == waiver.rule) {
            let span = span_of(ctx, "rule");
            let help = match closest(&waiver.rule, RULES.iter().map(|r| r.id)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => "`stackc policy --list` prints every rule id".to_owned(),
            };
            ctx.report(
                Diagnostic::error("unknown-rule", format!("no policy rule `{}`", waiver.rule))
                    .at(span)
                    .help(help),
            );
        }
        if waiver.reason.trim().is_empty() {
            let span = span_of(ctx, "reason");
            ctx.report(
                Diagnostic::error("waiver-without-reason", "a waiver needs a reason")
                    .at(span)
                    .help("say why the finding is acceptable, so the next reviewer can judge it"),
            );
        }
        let expires = waiver
            .expires
            .as_deref()
            .and_then(|text| match parse_date(text) {
                Some(date) => Some(date),
                None => {
                    let span = span_of(ctx, "expires");
                    ctx.report(
                        Diagnostic::error(
                            "invalid-value",
                            format!("expires `{text}` is not a date"),
                        )
                        .at(span)
                        .help("write expires = 2027-01-31 (a TOML date) or \"2027-01-31\""),
                    );
                    None
                }
            });
        waivers.push(WaiverPlan {
            rule: waiver.rule.clone(),
            object: waiver.object.clone(),
            reason: waiver.reason.clone(),
            expires,
            span: span_of(ctx, "rule"),
        });
    }
    PolicyPlan {
        pinned: policy.pinned.unwrap_or(false),
        waivers,
    }
}

/// `YYYY-MM-DD` (a TOML local date, or its text) → (year, month, day).
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let mut parts = text.trim().splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.get(..2)?.parse().ok()?;
    ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some((year, month, day))
}
