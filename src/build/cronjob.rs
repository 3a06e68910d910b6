//! `cronjob` → ServiceAccount, the provider's Secrets, ConfigMap, and a batch/v1
//! CronJob, all in the `apps` layer. The pod is Pod Security "restricted" like an app's;
//! a run-to-completion container has no probes. `restartPolicy: Never` makes each retry
//! a new pod, so a failed run's logs stay readable until the Job leaves the history.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec};

use super::pod::non_empty;
use super::{checksum, labels, pod, security};
use crate::object::{Layer, Object};
use crate::plan::{CronJobPlan, Plan};

pub fn build(plan: &Plan, job: &CronJobPlan) -> Vec<Object> {
    let stack = &plan.stack.name;
    let labels = labels::labels(stack, &job.name, "cronjob");
    let component = format!("cronjob.{}", job.name);
    let object =
        |value: serde_json::Value| Object::new(Layer::Apps, Some(component.clone()), &value);
    let mut out = vec![object(json(&pod::service_account(
        &job.name,
        &job.namespace,
        &labels,
        false,
    )))];
    if let Some(provider) = &plan.secrets {
        for secret in &job.secrets {
            out.extend(super::secrets::build(
                provider,
                secret,
                Layer::Apps,
                &component,
                stack,
            ));
        }
    }
    let config_map = job.config.as_ref().map(|c| ConfigMap {
        metadata: labels::meta(&c.config_map, &job.namespace, &labels),
        data: Some(c.files.clone()),
        ..ConfigMap::default()
    });
    if let Some(cm) = &config_map {
        out.push(object(json(cm)));
    }
    out.push(object(json(&cron_job(job, &labels, config_map.as_ref()))));
    out
}

fn json<T: serde::Serialize>(resource: &T) -> serde_json::Value {
    serde_json::to_value(resource).expect("Kubernetes types serialize")
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn cron_job(
    job: &CronJobPlan,
    labels: &BTreeMap<String, String>,
    config: Option<&ConfigMap>,
) -> CronJob {
    let (tmp_volume, tmp_mount) = security::tmp_volume();
    let mut volumes = vec![tmp_volume];
    let mut mounts = vec![tmp_mount];
    let mut annotations = BTreeMap::new();
    if let (Some(plan), Some(cm)) = (&job.config, config) {
        let (volume, mount) = pod::config_volume(plan);
        volumes.push(volume);
        mounts.push(mount);
        annotations.insert(format!("checksum/{}", plan.config_map), checksum(&cm.data));
    }
    if let Some(cert) = &job.client_tls {
        let (volume, mount) = pod::client_tls_volume(cert);
        volumes.push(volume);
        mounts.push(mount);
    }
    let container = Container {
        name: job.name.clone(),
        image: Some(job.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: non_empty(&job.command),
        args: non_empty(&job.args),
        env: non_empty(&job.env.iter().map(pod::env_var).collect::<Vec<_>>()),
        resources: Some(pod::resources(&job.resources)),
        security_context: Some(security::container()),
        volume_mounts: Some(mounts),
        ..Container::default()
    };
    CronJob {
        metadata: labels::meta(&job.name, &job.namespace, labels),
        spec: Some(CronJobSpec {
            schedule: job.schedule.clone(),
            time_zone: job.timezone.clone(),
            concurrency_policy: Some(job.concurrency.clone()),
            starting_deadline_seconds: job.deadline_seconds.map(int),
            successful_jobs_history_limit: Some(super::int32(job.history_successful)),
            failed_jobs_history_limit: Some(super::int32(job.history_failed)),
            job_template: JobTemplateSpec {
                metadata: None,
                spec: Some(JobSpec {
                    backoff_limit: Some(super::int32(job.backoff_limit)),
                    active_deadline_seconds: job.timeout_seconds.map(int),
                    template: pod::template(
                        labels,
                        annotations,
                        PodSpec {
                            restart_policy: Some("Never".into()),
                            service_account_name: Some(job.name.clone()),
                            automount_service_account_token: Some(false),
                            enable_service_links: Some(false),
                            security_context: Some(security::pod(job.run_as_user)),
                            containers: vec![container],
                            volumes: Some(volumes),
                            ..PodSpec::default()
                        },
                    ),
                    ..JobSpec::default()
                }),
            },
            ..CronJobSpec::default()
        }),
        ..CronJob::default()
    }
}
