//! Pieces every workload kind builds its pods and companions from: resources, env vars,
//! probes, the ServiceAccount, the PodDisruptionBudget, Services.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapKeySelector, ConfigMapVolumeSource, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    ExecAction, ObjectFieldSelector, PersistentVolumeClaimSpec, PodSpec, PodTemplateSpec, Probe,
    ResourceRequirements, SecretKeySelector, Service, ServiceAccount, ServicePort, ServiceSpec,
    Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::labels;
use crate::plan::{ConfigPlan, EnvSource, Quantities, ResourcesPlan};

pub fn resources(r: &ResourcesPlan) -> ResourceRequirements {
    ResourceRequirements {
        requests: quantities(&r.requests),
        limits: quantities(&r.limits),
        ..ResourceRequirements::default()
    }
}

fn quantities(q: &Quantities) -> Option<BTreeMap<String, Quantity>> {
    let map: BTreeMap<String, Quantity> = [("cpu", &q.cpu), ("memory", &q.memory)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_owned(), Quantity(v.clone()))))
        .collect();
    (!map.is_empty()).then_some(map)
}

pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.into()),
        value_from: None,
    }
}

pub fn secret_env(name: &str, secret: &str, key: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.to_owned(),
                key: key.to_owned(),
                optional: None,
            }),
            ..EnvVarSource::default()
        }),
    }
}

pub fn exec_probe(command: &[&str], initial_delay: i32, period: i32) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(command.iter().map(|s| (*s).to_owned()).collect()),
        }),
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Probe::default()
    }
}

pub fn service_account(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    automount: bool,
) -> ServiceAccount {
    ServiceAccount {
        metadata: labels::meta(name, namespace, labels),
        automount_service_account_token: Some(automount),
        ..ServiceAccount::default()
    }
}

/// A PDB letting at most one pod go at a time.
pub fn pdb(
    stack: &str,
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> PodDisruptionBudget {
    PodDisruptionBudget {
        metadata: labels::meta(name, namespace, labels),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(LabelSelector {
                match_labels: Some(labels::selector(stack, name)),
                ..LabelSelector::default()
            }),
            ..PodDisruptionBudgetSpec::default()
        }),
        ..PodDisruptionBudget::default()
    }
}

/// A Service selecting the component's pods; `headless` for StatefulSet identities.
pub fn service(
    stack: &str,
    component: &str,
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    ports: &[(&str, u16)],
    headless: bool,
) -> Service {
    Service {
        metadata: labels::meta(name, namespace, labels),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            cluster_ip: headless.then(|| "None".into()),
            publish_not_ready_addresses: headless.then_some(true),
            selector: Some(labels::selector(stack, component)),
            ports: Some(
                ports
                    .iter()
                    .map(|(port_name, port)| ServicePort {
                        name: Some((*port_name).to_owned()),
                        port: i32::from(*port),
                        target_port: Some(IntOrString::String((*port_name).to_owned())),
                        protocol: Some("TCP".into()),
                        ..ServicePort::default()
                    })
                    .collect(),
            ),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

/// The immutable selector of a workload's pods.
pub fn selector(stack: &str, component: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels::selector(stack, component)),
        ..LabelSelector::default()
    }
}

/// A pod template with the component's labels and the given annotations (checksums,
/// scrape hints).
pub fn template(
    labels: &BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    spec: PodSpec,
) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels.clone()),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..ObjectMeta::default()
        }),
        spec: Some(spec),
    }
}

/// `None` for an empty list (the API omits empty lists).
pub fn non_empty<T: Clone>(items: &[T]) -> Option<Vec<T>> {
    (!items.is_empty()).then(|| items.to_vec())
}

/// A container env var from a plan env var.
pub fn env_var(var: &crate::plan::EnvVar) -> EnvVar {
    let (value, value_from) = match &var.source {
        EnvSource::Value(v) => (Some(v.clone()), None),
        EnvSource::Secret { name, key } => (
            None,
            Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: name.clone(),
                    key: key.clone(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
        ),
        EnvSource::ConfigMap { name, key } => (
            None,
            Some(EnvVarSource {
                config_map_key_ref: Some(ConfigMapKeySelector {
                    name: name.clone(),
                    key: key.clone(),
                    optional: None,
                }),
                ..EnvVarSource::default()
            }),
        ),
        EnvSource::Field(path) => (
            None,
            Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: path.clone(),
                    api_version: None,
                }),
                ..EnvVarSource::default()
            }),
        ),
    };
    EnvVar {
        name: var.name.clone(),
        value,
        value_from,
    }
}

/// The read-only mount of a workload's config files.
pub fn config_volume(plan: &ConfigPlan) -> (Volume, VolumeMount) {
    (
        Volume {
            name: "config".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: plan.config_map.clone(),
                ..ConfigMapVolumeSource::default()
            }),
            ..Volume::default()
        },
        VolumeMount {
            name: "config".into(),
            mount_path: plan.mount.clone(),
            read_only: Some(true),
            ..VolumeMount::default()
        },
    )
}

/// An emptyDir volume.
pub fn empty_dir(name: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource::default()),
        ..Volume::default()
    }
}

/// A read-write mount of a volume.
pub fn mount(name: &str, path: &str) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        ..VolumeMount::default()
    }
}

/// A ReadWriteOnce claim of `size` (in `class`, else the cluster's default class).
pub fn pvc_spec(size: &str, class: Option<&str>) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".into()]),
        storage_class_name: class.map(str::to_owned),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(size.to_owned()),
            )])),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// The client certificate Secret of a consumer of TLS services (`tls.crt`, `tls.key`
/// and the stack CA's `ca.crt`), mounted read-only where the `*_CA_FILE` vars point.
pub fn client_tls_volume(cert: &crate::plan::CertificatePlan) -> (Volume, VolumeMount) {
    certificate_volume("client-tls", &cert.name, crate::check::CLIENT_TLS_DIR)
}

/// A certificate's Secret as volume `name`, mounted read-only (mode 0440) at `path`.
pub fn certificate_volume(name: &str, secret: &str, path: &str) -> (Volume, VolumeMount) {
    let volume = Volume {
        name: name.into(),
        secret: Some(k8s_openapi::api::core::v1::SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            default_mode: Some(0o440),
            ..Default::default()
        }),
        ..Volume::default()
    };
    let mount = VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    };
    (volume, mount)
}

/// The `data` volume claim template of a stateful workload.
pub fn data_claim(
    labels: &BTreeMap<String, String>,
    size: &str,
    class: Option<&str>,
) -> k8s_openapi::api::core::v1::PersistentVolumeClaim {
    k8s_openapi::api::core::v1::PersistentVolumeClaim {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("data".into()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        spec: Some(pvc_spec(size, class)),
        ..Default::default()
    }
}
