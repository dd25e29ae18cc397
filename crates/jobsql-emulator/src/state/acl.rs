//! Job permissions: the direct entries of each job's access-control list (who holds which
//! level), generated from `(seed, job index)` until a PATCH or PUT changes them, and what
//! every job inherits from the root object `/jobs/` (the `admins` group, `CAN_MANAGE`).
//! The rules of changing them are `domain::permissions`'; the JSON is `render::permissions`'.

use super::data::{h, pick, USERS};

/// Who an entry is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Grantee {
    User(String),
    Group(String),
    ServicePrincipal(String),
}

/// One direct entry: a principal and its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AclEntry {
    pub principal: Grantee,
    pub level: String,
}

/// The root object every job inherits from, and what it grants.
pub(crate) const ROOT: &str = "/jobs/";
/// The group every job inherits `CAN_MANAGE` for from [`ROOT`].
pub(crate) const ADMINS: &str = "admins";

/// The service principals of the workspace (application ids) and their display names.
pub(crate) const SERVICE_PRINCIPALS: [(&str, &str); 2] = [
    ("6f0e4a8c-1b2d-4c3e-9f10-a1b2c3d4e5f6", "etl-runner"),
    ("0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d", "ml-scheduler"),
];

/// The direct entries job `j` (created by `creator`) starts with: its creator `IS_OWNER`;
/// some jobs let the `users` group view them, a service principal run them, another user
/// manage them, or the `data-engineers` group run them.
pub(crate) fn generated(seed: u64, j: usize, creator: &str) -> Vec<AclEntry> {
    let mut acl = vec![AclEntry {
        principal: Grantee::User(creator.to_string()),
        level: "IS_OWNER".into(),
    }];
    let hj = j as u64;
    if j.is_multiple_of(2) {
        acl.push(AclEntry {
            principal: Grantee::Group("users".into()),
            level: "CAN_VIEW".into(),
        });
    }
    if j % 3 != 1 {
        let (sp, _) = SERVICE_PRINCIPALS[pick(seed, hj, 41, 2) as usize];
        acl.push(AclEntry {
            principal: Grantee::ServicePrincipal(sp.into()),
            level: "CAN_MANAGE_RUN".into(),
        });
    }
    if j % 4 == 1 {
        let other = USERS[(j + 1 + (h(seed, hj, 42) % 4) as usize) % USERS.len()];
        if other != creator {
            acl.push(AclEntry {
                principal: Grantee::User(other.into()),
                level: "CAN_MANAGE".into(),
            });
        }
    }
    if j % 5 == 2 {
        acl.push(AclEntry {
            principal: Grantee::Group("data-engineers".into()),
            level: "CAN_MANAGE_RUN".into(),
        });
    }
    acl
}
