//! A small validator for the OpenAPI v3 subset of Kubernetes CRD schemas:
//! types, required fields, unknown fields (structural schemas prune them, so
//! an unknown field in a generated resource is a bug), enums, items,
//! additionalProperties and `x-kubernetes-int-or-string`.

use serde_json::Value;

pub fn validate(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    validate_in(schema, schema, v, path, errs);
}

/// Validates with `$ref`s (`#/definitions/X`, `#/$defs/X`) resolved in `root`,
/// as JSON Schema documents such as Grafana's use them.
pub fn validate_in(root: &Value, schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(root, |node, key| &node[key]));
        match target {
            Some(t) if !t.is_null() => validate_in(root, t, v, path, errs),
            _ => errs.push(format!("{path}: unresolvable $ref {r}")),
        }
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        if !(v.is_i64() || v.is_u64() || v.is_string()) {
            errs.push(format!("{path}: expected int or string, got {v}"));
        }
        return;
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            validate_in(root, s, v, path, errs);
        }
    }
    if let Some(any) = schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
    {
        let ok = any.iter().any(|s| {
            let mut e = Vec::new();
            validate_in(root, s, v, path, &mut e);
            e.is_empty()
        });
        if !ok {
            errs.push(format!("{path}: matches none of anyOf/oneOf"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        errs.push(format!("{path}: {v} is not one of {allowed:?}"));
    }
    if let Some(types) = schema.get("type").and_then(Value::as_array) {
        let ok = types.iter().filter_map(Value::as_str).any(|t| {
            let mut e = Vec::new();
            let mut single = schema.clone();
            single["type"] = Value::from(t);
            validate_in(root, &single, v, path, &mut e);
            e.is_empty()
        });
        if !ok {
            errs.push(format!("{path}: {v} matches none of the types {types:?}"));
        }
        return;
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") => {
            let Some(obj) = v.as_object() else {
                errs.push(format!("{path}: expected an object, got {v}"));
                return;
            };
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve =
                schema.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            for req in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(r) = req.as_str()
                    && !obj.contains_key(r)
                {
                    errs.push(format!("{path}: missing required field {r}"));
                }
            }
            for (k, val) in obj {
                let p = format!("{path}.{k}");
                if let Some(s) = props.and_then(|m| m.get(k)) {
                    validate_in(root, s, val, &p, errs);
                } else if let Some(a) = additional.filter(|a| a.is_object()) {
                    validate_in(root, a, val, &p, errs);
                } else if props.is_some() && !preserve && additional != Some(&Value::Bool(true)) {
                    errs.push(format!("{p}: unknown field"));
                }
            }
        }
        Some("array") => match v.as_array() {
            Some(items) => {
                if let Some(s) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        validate_in(root, s, item, &format!("{path}[{i}]"), errs);
                    }
                }
            }
            None => errs.push(format!("{path}: expected an array, got {v}")),
        },
        Some("string") if !v.is_string() => {
            errs.push(format!("{path}: expected a string, got {v}"))
        }
        Some("integer") if !(v.is_i64() || v.is_u64()) => {
            errs.push(format!("{path}: expected an integer, got {v}"))
        }
        Some("number") if !v.is_number() => {
            errs.push(format!("{path}: expected a number, got {v}"))
        }
        Some("boolean") if !v.is_boolean() => {
            errs.push(format!("{path}: expected a boolean, got {v}"))
        }
        _ => {}
    }
}

/// The `openAPIV3Schema` of a CRD file.
pub fn crd_schema(crd_yaml: &str) -> Value {
    let crd: Value = serde_saphyr::from_str(crd_yaml).expect("CRD parses");
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}
