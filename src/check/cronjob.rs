//! Checks of one `[cronjob.<name>]` and its resolution into a [`CronJobPlan`]. The
//! container settings (image, env, config, resources) are checked as for an app; the
//! schedule, time zone, concurrency, history and deadlines here. `uses` are wired later.

use super::stack::{ResolvedDefaults, resources};
use super::{Ctx, app, cron, names};
use crate::diag::Diagnostic;
use crate::load::closest;
use crate::model::cronjob::CronJob;
use crate::plan::CronJobPlan;

/// `concurrency` values and their CronJob `concurrencyPolicy`.
const CONCURRENCY: &[(&str, &str)] = &[
    ("forbid", "Forbid"),
    ("allow", "Allow"),
    ("replace", "Replace"),
];

/// The CronJob controller checks schedules every 10 seconds: a shorter starting
/// deadline can make every run count as missed.
const MIN_DEADLINE_SECONDS: u64 = 10;

pub(super) fn resolve(
    ctx: &mut Ctx,
    name: &str,
    job: &CronJob,
    defaults: &ResolvedDefaults,
    stack: &str,
) -> Option<CronJobPlan> {
    let before = ctx.diags.len();
    let namespace = app::namespace(ctx, "cronjob", name, job.namespace.as_deref(), defaults);
    app::check_image(ctx, "cronjob", name, &job.image);
    if let Err(reason) = cron::schedule(&job.schedule) {
        let span = ctx.value_span(&["cronjob", name, "schedule"]);
        ctx.report(
            Diagnostic::error(
                "invalid-schedule",
                format!("schedule `{}` {reason}", job.schedule),
            )
            .at(span)
            .help(
                "e.g. schedule = \"*/15 * * * *\" (every 15 minutes); use `timezone` for the zone",
            ),
        );
    }
    if let Some(zone) = &job.timezone {
        time_zone(ctx, name, zone);
    }
    let concurrency = concurrency(ctx, name, job.concurrency.as_deref());
    let deadline_seconds = job
        .deadline
        .as_deref()
        .and_then(|d| seconds(ctx, name, "deadline", d, MIN_DEADLINE_SECONDS));
    let timeout_seconds = job
        .timeout
        .as_deref()
        .and_then(|t| seconds(ctx, name, "timeout", t, 1));
    let env = app::env(ctx, "cronjob", name, &job.env);
    let config = app::config(ctx, "cronjob", name, job.config.as_ref());
    let resources = resources(
        ctx,
        job.resources.as_ref(),
        &defaults.resources,
        &["cronjob", name, "resources"],
    );
    let history = job.history.clone().unwrap_or_default();
    let secrets = app::provider_secrets(name, &namespace, &env);
    let egress = super::network::destinations(ctx, &job.egress, &["cronjob", name, "egress"]);
    (ctx.diags.len() == before).then(|| CronJobPlan {
        client_tls: None,
        egress,
        name: name.to_owned(),
        schedule: job.schedule.clone(),
        timezone: job.timezone.clone(),
        concurrency,
        history_successful: history.successful.unwrap_or(3),
        history_failed: history.failed.unwrap_or(1),
        deadline_seconds,
        backoff_limit: job.backoff_limit.unwrap_or(2),
        timeout_seconds,
        image: job.image.clone(),
        command: job.command.clone().unwrap_or_default(),
        args: job.args.clone().unwrap_or_default(),
        env,
        config,
        resources,
        // In written order until `uses` are wired (diagnostics point at the n-th item).
        uses: job.uses.clone(),
        selector: crate::build::selector_labels(stack, name),
        run_as_user: defaults.run_as_user,
        secrets,
        namespace,
    })
}

/// Reports a `timezone` the API server would refuse, with the zone it likely means.
fn time_zone(ctx: &mut Ctx, name: &str, zone: &str) {
    let Err(reason) = names::time_zone(zone) else {
        return;
    };
    let help = match names::closest_time_zone(zone) {
        Some(best) => format!("did you mean `{best}`?"),
        None => "name an IANA time zone, e.g. \"Europe/Berlin\" or \"Etc/UTC\"".into(),
    };
    let span = ctx.value_span(&["cronjob", name, "timezone"]);
    ctx.report(
        Diagnostic::error("invalid-value", format!("time zone `{zone}` {reason}"))
            .at(span)
            .help(help),
    );
}

fn concurrency(ctx: &mut Ctx, name: &str, given: Option<&str>) -> String {
    let given = given.unwrap_or("forbid");
    if let Some((_, policy)) = CONCURRENCY.iter().find(|(key, _)| *key == given) {
        return (*policy).to_owned();
    }
    let keys = CONCURRENCY.iter().map(|(key, _)| *key);
    let help = match closest(&given.to_ascii_lowercase(), keys.clone()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!(
            "one of: {}",
            keys.map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let span = ctx.value_span(&["cronjob", name, "concurrency"]);
    ctx.report(
        Diagnostic::error(
            "invalid-value",
            format!("concurrency `{given}` is not \"forbid\", \"allow\" or \"replace\""),
        )
        .at(span)
        .label("what happens when a run is due while the last one still runs")
        .help(help),
    );
    String::new()
}

/// A Go duration of at least `min` whole seconds.
fn seconds(ctx: &mut Ctx, name: &str, key: &str, text: &str, min: u64) -> Option<u64> {
    let path = ["cronjob", name, key];
    let Some(secs) = names::duration_seconds(text) else {
        let reason = names::go_duration(text).err().unwrap_or_default();
        let span = ctx.value_span(&path);
        ctx.report(
            Diagnostic::error("invalid-duration", format!("{key} `{text}` {reason}"))
                .at(span)
                .help("use a Go duration such as \"5m\" or \"1h30m\""),
        );
        return None;
    };
    if secs < min {
        let span = ctx.value_span(&path);
        ctx.report(
            Diagnostic::error(
                "invalid-duration",
                format!("{key} `{text}` is shorter than {min}s"),
            )
            .at(span)
            .help(if key == "deadline" {
                "the CronJob controller checks every 10 seconds: give a deadline of at least \"10s\""
            } else {
                "give a run at least one second"
            }),
        );
        return None;
    }
    Some(secs)
}
