//! stackc — a typed GitOps manifest compiler.
//!
//! `stack.toml` plus `environments/<env>.toml` compile, through the pipeline
//! load → check → build → validate → emit, into deterministic Kubernetes manifests
//! under `rendered/<env>/`. See `ARCHITECTURE.md` for the code map.

pub mod build;
pub mod check;
pub mod cidr;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod graph;
pub mod kube;
pub mod load;
pub mod model;
pub mod object;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod policy;
pub mod promote;
pub mod timings;
pub mod validate;
pub mod value;
