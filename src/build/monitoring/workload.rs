//! The one shape every monitoring server shares: a single-replica StatefulSet (or a
//! Deployment with a PVC for Grafana) running one container with a named HTTP port,
//! HTTP probes, its payload ConfigMaps mounted read-only, an optional data volume, Pod
//! Security "restricted" and a ClusterIP Service.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{
    Deployment, DeploymentSpec, DeploymentStrategy, StatefulSet, StatefulSetSpec,
};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EnvVar, HTTPGetAction,
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSpec,
    Probe, ResourceRequirements, SecretVolumeSource, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::super::{checksum, labels, pod, security};
use crate::plan::StorePlan;

/// What differs between the monitoring servers.
pub struct Server<'a> {
    pub stack: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub image: &'a str,
    pub args: Vec<String>,
    pub env: Vec<EnvVar>,
    /// (port name, port)
    pub port: (&'a str, u16),
    pub liveness: &'a str,
    pub readiness: &'a str,
    /// ConfigMaps mounted read-only: (ConfigMap, mount path).
    pub configs: Vec<(&'a ConfigMap, &'a str)>,
    /// Secret keys mounted as files: (Secret, keys, mount path).
    pub secret_files: Option<(&'a str, Vec<String>, &'a str)>,
    /// The data volume and where it is mounted.
    pub data: Option<(&'a StorePlan, &'a str)>,
    pub uid: i64,
    /// (cpu request, memory request, memory limit)
    pub resources: (&'a str, &'a str, &'a str),
    pub service_account: Option<&'a str>,
}

impl Server<'_> {
    pub fn labels(&self) -> BTreeMap<String, String> {
        labels::labels(self.stack, self.name, "monitoring")
    }

    fn container_and_volumes(&self) -> (Container, Vec<Volume>) {
        let (tmp, tmp_mount) = security::tmp_volume();
        let mut volumes = vec![tmp];
        let mut mounts = vec![tmp_mount];
        for (i, (cm, path)) in self.configs.iter().enumerate() {
            let volume = format!("config-{i}");
            volumes.push(Volume {
                name: volume.clone(),
                config_map: Some(ConfigMapVolumeSource {
                    name: cm.metadata.name.clone().unwrap_or_default(),
                    ..ConfigMapVolumeSource::default()
                }),
                ..Volume::default()
            });
            mounts.push(mount(&volume, path, true));
        }
        if let Some((secret, keys, path)) = &self.secret_files {
            volumes.push(Volume {
                name: "secrets".into(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some((*secret).to_owned()),
                    items: Some(
                        keys.iter()
                            .map(|k| k8s_openapi::api::core::v1::KeyToPath {
                                key: k.clone(),
                                path: k.clone(),
                                mode: None,
                            })
                            .collect(),
                    ),
                    ..SecretVolumeSource::default()
                }),
                ..Volume::default()
            });
            mounts.push(mount("secrets", path, true));
        }
        if let Some((_, path)) = self.data {
            mounts.push(mount("data", path, false));
        }
        let http = |path: &str, delay: i32| Probe {
            http_get: Some(HTTPGetAction {
                path: Some(path.to_owned()),
                port: IntOrString::String(self.port.0.to_owned()),
                ..HTTPGetAction::default()
            }),
            initial_delay_seconds: Some(delay),
            period_seconds: Some(10),
            timeout_seconds: Some(5),
            failure_threshold: Some(6),
            ..Probe::default()
        };
        let (cpu, memory, limit) = self.resources;
        let container = Container {
            name: self.name.to_owned(),
            image: Some(self.image.to_owned()),
            image_pull_policy: Some("IfNotPresent".into()),
            args: (!self.args.is_empty()).then(|| self.args.clone()),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            ports: Some(vec![ContainerPort {
                name: Some(self.port.0.to_owned()),
                container_port: i32::from(self.port.1),
                protocol: Some("TCP".into()),
                ..ContainerPort::default()
            }]),
            resources: Some(ResourceRequirements {
                requests: Some(BTreeMap::from([
                    ("cpu".to_owned(), Quantity(cpu.to_owned())),
                    ("memory".to_owned(), Quantity(memory.to_owned())),
                ])),
                limits: Some(BTreeMap::from([(
                    "memory".to_owned(),
                    Quantity(limit.to_owned()),
                )])),
                ..ResourceRequirements::default()
            }),
            liveness_probe: Some(http(self.liveness, 30)),
            readiness_probe: Some(http(self.readiness, 5)),
            security_context: Some(security::container()),
            volume_mounts: Some(mounts),
            ..Container::default()
        };
        (container, volumes)
    }

    fn pod_spec(&self, container: Container, volumes: Vec<Volume>) -> PodSpec {
        PodSpec {
            service_account_name: Some(self.service_account.unwrap_or(self.name).to_owned()),
            automount_service_account_token: Some(self.service_account.is_some()),
            enable_service_links: Some(false),
            security_context: Some(security::pod(self.uid)),
            containers: vec![container],
            volumes: Some(volumes),
            ..PodSpec::default()
        }
    }

    /// Config checksums: a changed payload rolls the pod.
    fn annotations(&self) -> BTreeMap<String, String> {
        self.configs
            .iter()
            .map(|(cm, _)| {
                (
                    format!("checksum/{}", cm.metadata.name.clone().unwrap_or_default()),
                    checksum(&cm.data),
                )
            })
            .collect()
    }

    pub fn statefulset(&self) -> StatefulSet {
        let labels = self.labels();
        let (container, volumes) = self.container_and_volumes();
        StatefulSet {
            metadata: labels::meta(self.name, self.namespace, &labels),
            spec: Some(StatefulSetSpec {
                replicas: Some(1),
                service_name: Some(self.name.to_owned()),
                selector: pod::selector(self.stack, self.name),
                template: pod::template(
                    &labels,
                    self.annotations(),
                    self.pod_spec(container, volumes),
                ),
                volume_claim_templates: self.data.map(|(store, _)| {
                    vec![PersistentVolumeClaim {
                        metadata: ObjectMeta {
                            name: Some("data".into()),
                            ..ObjectMeta::default()
                        },
                        spec: Some(claim(store)),
                        ..PersistentVolumeClaim::default()
                    }]
                }),
                ..StatefulSetSpec::default()
            }),
            ..StatefulSet::default()
        }
    }

    /// A Deployment whose data volume is a PVC of the same name (Recreate: the volume
    /// is ReadWriteOnce).
    pub fn deployment_with_claim(&self) -> (Deployment, Option<PersistentVolumeClaim>) {
        let labels = self.labels();
        let (container, mut volumes) = self.container_and_volumes();
        let claim = self.data.map(|(store, _)| {
            volumes.push(Volume {
                name: "data".into(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: self.name.to_owned(),
                    read_only: None,
                }),
                ..Volume::default()
            });
            PersistentVolumeClaim {
                metadata: labels::meta(self.name, self.namespace, &labels),
                spec: Some(claim(store)),
                ..PersistentVolumeClaim::default()
            }
        });
        let deployment = Deployment {
            metadata: labels::meta(self.name, self.namespace, &labels),
            spec: Some(DeploymentSpec {
                replicas: Some(1),
                revision_history_limit: Some(5),
                strategy: Some(DeploymentStrategy {
                    type_: Some("Recreate".into()),
                    rolling_update: None,
                }),
                selector: pod::selector(self.stack, self.name),
                template: pod::template(
                    &labels,
                    self.annotations(),
                    self.pod_spec(container, volumes),
                ),
                ..DeploymentSpec::default()
            }),
            ..Deployment::default()
        };
        (deployment, claim)
    }

    pub fn service(&self) -> k8s_openapi::api::core::v1::Service {
        pod::service(
            self.stack,
            self.name,
            self.name,
            self.namespace,
            &self.labels(),
            &[self.port],
            false,
        )
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        read_only: read_only.then_some(true),
        ..VolumeMount::default()
    }
}

fn claim(store: &StorePlan) -> PersistentVolumeClaimSpec {
    PersistentVolumeClaimSpec {
        access_modes: Some(vec!["ReadWriteOnce".into()]),
        storage_class_name: store.storage_class.clone(),
        resources: Some(VolumeResourceRequirements {
            requests: Some(BTreeMap::from([(
                "storage".to_owned(),
                Quantity(store.storage.clone()),
            )])),
            ..VolumeResourceRequirements::default()
        }),
        ..PersistentVolumeClaimSpec::default()
    }
}

/// A ConfigMap of rendered payload files.
pub fn config_map(
    name: &str,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    files: BTreeMap<String, String>,
) -> ConfigMap {
    ConfigMap {
        metadata: labels::meta(name, namespace, labels),
        data: Some(files),
        ..ConfigMap::default()
    }
}
