//! The Permissions API for jobs (GET, PATCH, PUT, permissionLevels) and the policy
//! compliance endpoints, called directly: the owner rules, inherited levels, errors, and
//! enforce-compliance's validate_only.

use serde_json::{json, Value};

use super::common::*;

/// The direct level of the entry whose `key` is `name`, and whether it is the only one.
fn level(object: &Value, key: &str, name: &str) -> Option<String> {
    object["access_control_list"]
        .as_array()?
        .iter()
        .find(|e| e[key] == name)?["all_permissions"]
        .as_array()?
        .iter()
        .find(|p| p["inherited"] == false)
        .and_then(|p| p["permission_level"].as_str().map(str::to_string))
}

fn owners(object: &Value) -> Vec<String> {
    object["access_control_list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            e["all_permissions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["permission_level"] == "IS_OWNER")
        })
        .filter_map(|e| {
            e["user_name"]
                .as_str()
                .or(e["service_principal_name"].as_str())
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test]
async fn patch_adds_and_moves_the_owner_put_replaces_direct_entries() {
    let h = emu(20, 4).await;
    let api = Api::new(&h);
    let jobs = api.ok("/api/2.2/jobs/list", &[]).await;
    let job = &jobs["jobs"][0];
    let id = job["job_id"].as_i64().unwrap_or_default();
    let creator = job["creator_user_name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let path = format!("/api/2.0/permissions/jobs/{id}");
    let before = api.ok(&path, &[]).await;
    assert_eq!(before["object_id"], format!("/jobs/{id}"));
    assert_eq!(before["object_type"], "job");
    assert_eq!(owners(&before), std::slice::from_ref(&creator));
    let admins = before["access_control_list"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["group_name"] == "admins"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        admins["all_permissions"],
        json!([{"permission_level": "CAN_MANAGE", "inherited": true, "inherited_from_object": ["/jobs/"]}])
    );

    // PATCH: a new entry, and a changed one; the rest stays.
    let (s, after) = api
        .send(
            "PATCH",
            &path,
            json!({"access_control_list": [
            {"user_name": "zoe@example.com", "permission_level": "CAN_MANAGE_RUN"},
            {"group_name": "users", "permission_level": "CAN_MANAGE_RUN"}]}),
        )
        .await;
    assert_eq!(s, 200, "{after}");
    assert_eq!(
        level(&after, "user_name", "zoe@example.com").as_deref(),
        Some("CAN_MANAGE_RUN")
    );
    assert_eq!(
        level(&after, "group_name", "users").as_deref(),
        Some("CAN_MANAGE_RUN")
    );
    assert_eq!(owners(&after), std::slice::from_ref(&creator));
    assert_eq!(
        api.ok(&path, &[]).await,
        after,
        "GET shows what PATCH answered"
    );
    // PATCH IS_OWNER to another user: the owner moves (one owner, always).
    let (_, moved) = api
        .send(
            "PATCH",
            &path,
            json!({"access_control_list": [
            {"user_name": "zoe@example.com", "permission_level": "IS_OWNER"}]}),
        )
        .await;
    assert_eq!(owners(&moved), ["zoe@example.com"]);
    // A group cannot own a job; two owners are refused; an unknown level is refused.
    for bad in [
        json!([{"group_name": "users", "permission_level": "IS_OWNER"}]),
        json!([{"user_name": "a@example.com", "permission_level": "IS_OWNER"},
               {"user_name": "b@example.com", "permission_level": "IS_OWNER"}]),
        json!([{"user_name": "a@example.com", "permission_level": "CAN_RUN"}]),
        json!([{"user_name": "a@example.com", "group_name": "users", "permission_level": "CAN_VIEW"}]),
    ] {
        let (s, e) = api
            .send("PATCH", &path, json!({"access_control_list": bad}))
            .await;
        assert_error(s, &e, 400, "INVALID_PARAMETER_VALUE", "");
    }
    // PUT: the direct entries replaced; with no owner given, the owner stays; admins still
    // inherit.
    let (s, put) = api
        .send("PUT", &path, json!({"access_control_list": [
            {"service_principal_name": "6f0e4a8c-1b2d-4c3e-9f10-a1b2c3d4e5f6", "permission_level": "CAN_MANAGE"}]}))
        .await;
    assert_eq!(s, 200, "{put}");
    let list = put["access_control_list"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(list.len(), 3, "owner, the service principal, admins: {put}");
    assert_eq!(owners(&put), ["zoe@example.com"]);
    assert_eq!(level(&put, "group_name", "users"), None, "replaced");
    // PUT with an owner: it is the owner.
    let (_, put) = api
        .send(
            "PUT",
            &path,
            json!({"access_control_list": [
            {"user_name": creator.as_str(), "permission_level": "IS_OWNER"}]}),
        )
        .await;
    assert_eq!(owners(&put), std::slice::from_ref(&creator));
    assert_eq!(put["access_control_list"].as_array().map(Vec::len), Some(2));
    // Levels; unknown jobs.
    let levels = api.ok(&format!("{path}/permissionLevels"), &[]).await;
    assert_eq!(
        levels["permission_levels"].as_array().map(Vec::len),
        Some(4)
    );
    let (s, e) = api.get("/api/2.0/permissions/jobs/1", &[]).await;
    assert_error(s, &e, 404, "RESOURCE_DOES_NOT_EXIST", "does not exist");
    let (s, e) = api
        .send("PATCH", "/api/2.0/permissions/jobs/1", json!({}))
        .await;
    assert_error(s, &e, 404, "RESOURCE_DOES_NOT_EXIST", "does not exist");
}

#[tokio::test]
async fn enforce_compliance_previews_then_fixes() {
    let h = emu(20, 8).await;
    let api = Api::new(&h);
    let listed = api
        .ok(
            "/api/2.0/policies/jobs/list-compliance",
            &[("policy_id", "D0C0A1B2C3D4E5F6")],
        )
        .await;
    let bad = listed["jobs"]
        .as_array()
        .and_then(|j| j.iter().find(|j| j["is_compliant"] == false))
        .cloned()
        .expect("a non-compliant job");
    let id = bad["job_id"].as_i64().unwrap_or_default();
    assert!(bad["violations"].as_object().is_some_and(|v| !v.is_empty()));
    let get = |id: i64| {
        let api = &api;
        async move {
            api.ok(
                "/api/2.0/policies/jobs/get-compliance",
                &[("job_id", &id.to_string())],
            )
            .await
        }
    };
    assert_eq!(get(id).await["is_compliant"], false);
    let path = "/api/2.0/policies/jobs/enforce-compliance";
    let preview = api
        .post_ok(path, json!({"job_id": id, "validate_only": true}))
        .await;
    assert_eq!(preview["has_changes"], true);
    assert!(preview["settings"]["job_clusters"].is_array());
    assert_eq!(
        get(id).await["is_compliant"],
        false,
        "validate_only changes nothing"
    );
    let done = api.post_ok(path, json!({"job_id": id})).await;
    assert_eq!(done["job_cluster_changes"], preview["job_cluster_changes"]);
    assert_eq!(get(id).await["is_compliant"], true);
    let again = api.post_ok(path, json!({"job_id": id})).await;
    assert_eq!(again["has_changes"], false);
    let (s, e) = api
        .get(
            "/api/2.0/policies/jobs/list-compliance",
            &[("policy_id", "nope")],
        )
        .await;
    assert_error(s, &e, 404, "RESOURCE_DOES_NOT_EXIST", "nope");
}
