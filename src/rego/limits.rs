//! Builtins whose result can be made as large as a policy likes, bounded. `numbers.range(1,
//! 1e10)` asks regorus for ten billion numbers (a 72 GB allocation that aborts the process);
//! guard registers its own `numbers.range` and `numbers.range_step` (extensions are looked up
//! before builtins) that refuse a range of more than [`MAX_RANGE`] elements with an error the
//! evaluation reports, and otherwise give OPA's result. The same for the builtins that can
//! double what they are given at every call, so that a few lines of a policy
//! (`a1 := array.concat(a0, a0)`, `s1 := concat("", [s0, s0])`, ...) would ask for an
//! exponential amount of memory before the time limit stops them: `array.concat` gives at most
//! [`MAX_ITEMS`] elements and `concat` a string of at most [`MAX_STRING`] bytes. Operands of
//! the wrong type are undefined, as OPA's builtin errors are outside strict mode.

use regorus::Value;

/// The most elements one range may have.
pub const MAX_RANGE: u64 = 1_000_000;

/// The most elements `array.concat` gives.
pub const MAX_ITEMS: usize = 1_000_000;

/// The longest string `concat` gives (bytes).
pub const MAX_STRING: usize = 16 << 20;

/// An integer argument, as OPA requires it.
fn integer(args: &[Value], i: usize, name: &str) -> anyhow::Result<i64> {
    let v = args
        .get(i)
        .and_then(|v| serde_json::to_value(v).ok())
        .and_then(|v| v.as_i64());
    v.ok_or_else(|| anyhow::anyhow!("{name}: operand {} must be an integer", i + 1))
}

/// `from` to `to` inclusive by `step` (> 0), descending when `to` < `from`, as OPA does.
fn range(from: i64, to: i64, step: i64, name: &str) -> anyhow::Result<Value> {
    let span = from.abs_diff(to);
    let count = span / step.unsigned_abs() + 1;
    if count > MAX_RANGE {
        anyhow::bail!(
            "{name}: a range of {count} elements is over guard's limit of {MAX_RANGE} (a policy must not exhaust the machine)"
        );
    }
    let dir = if to >= from { step } else { -step };
    let items = (0..count as i64)
        .map(|k| serde_json::Value::from(from + k * dir))
        .collect();
    Ok(Value::from(serde_json::Value::Array(items)))
}

/// Registers the bounded builtins on an engine (before any policy is evaluated).
pub fn add(engine: &mut regorus::Engine) {
    let range2 = |args: Vec<Value>| -> anyhow::Result<Value> {
        let (a, b) = (
            integer(&args, 0, "numbers.range")?,
            integer(&args, 1, "numbers.range")?,
        );
        range(a, b, 1, "numbers.range")
    };
    let range3 = |args: Vec<Value>| -> anyhow::Result<Value> {
        let name = "numbers.range_step";
        let (a, b, step) = (
            integer(&args, 0, name)?,
            integer(&args, 1, name)?,
            integer(&args, 2, name)?,
        );
        if step <= 0 {
            anyhow::bail!("{name}: step must be a positive integer");
        }
        range(a, b, step, name)
    };
    let array_concat = |args: Vec<Value>| -> anyhow::Result<Value> {
        let (Some(Ok(a)), Some(Ok(b))) = (
            args.first().map(Value::as_array),
            args.get(1).map(Value::as_array),
        ) else {
            return Ok(Value::Undefined);
        };
        let n = a.len().saturating_add(b.len());
        if n > MAX_ITEMS {
            anyhow::bail!(
                "array.concat: an array of {n} elements is over guard's limit of {MAX_ITEMS} (a policy must not exhaust the machine)"
            );
        }
        let mut v = Vec::with_capacity(n);
        v.extend(a.iter().cloned());
        v.extend(b.iter().cloned());
        Ok(Value::from(v))
    };
    let concat = |args: Vec<Value>| -> anyhow::Result<Value> {
        let (Some(Ok(delim)), Some(coll)) = (args.first().map(Value::as_string), args.get(1))
        else {
            return Ok(Value::Undefined);
        };
        let items: Vec<&Value> = match (coll.as_array(), coll.as_set()) {
            (Ok(a), _) => a.iter().collect(),
            (_, Ok(s)) => s.iter().collect(),
            _ => return Ok(Value::Undefined),
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut len = delim.len().saturating_mul(items.len().saturating_sub(1));
        for i in items {
            let Ok(t) = i.as_string() else {
                return Ok(Value::Undefined);
            };
            len = len.saturating_add(t.len());
            strings.push(t.as_ref());
        }
        if len > MAX_STRING {
            anyhow::bail!(
                "concat: a string of {len} bytes is over guard's limit of {MAX_STRING} (a policy must not exhaust the machine)"
            );
        }
        Ok(Value::from(strings.join(delim.as_ref())))
    };
    // Registration fails only when the name is taken, which it is not on a new engine.
    let _ = engine.add_extension("array.concat".to_string(), 2, Box::new(array_concat));
    let _ = engine.add_extension("concat".to_string(), 2, Box::new(concat));
    let _ = engine.add_extension("numbers.range".to_string(), 2, Box::new(range2));
    let _ = engine.add_extension("numbers.range_step".to_string(), 3, Box::new(range3));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: &str) -> Result<String, String> {
        let mut e = regorus::Engine::new();
        add(&mut e);
        e.add_policy("p.rego".into(), format!("package p\nx := {expr}\n"))
            .map_err(|e| e.to_string())?;
        e.eval_rule("data.p.x".into())
            .map(|v| {
                serde_json::to_value(&v)
                    .map(|j| j.to_string())
                    .unwrap_or_default()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn ranges_are_opas_and_bounded() {
        assert_eq!(eval("numbers.range(1, 4)").unwrap(), "[1,2,3,4]");
        assert_eq!(eval("numbers.range(3, 1)").unwrap(), "[3,2,1]");
        assert_eq!(eval("numbers.range_step(0, 10, 4)").unwrap(), "[0,4,8]");
        assert_eq!(eval("numbers.range_step(10, 0, 5)").unwrap(), "[10,5,0]");
        let e = eval("numbers.range(1, 10000000000)").unwrap_err();
        assert!(e.contains("over guard's limit of 1000000"), "{e}");
        let e = eval("count([y | some y in numbers.range(-5000000000, 5000000000)])").unwrap_err();
        assert!(e.contains("over guard's limit"), "{e}");
        assert!(eval("numbers.range_step(1, 5, 0)").is_err());
    }

    #[test]
    fn doubling_builtins_are_opas_and_bounded() {
        assert_eq!(eval("array.concat([1, 2], [3])").unwrap(), "[1,2,3]");
        assert_eq!(
            eval(r#"concat("-", ["a", "b", "c"])"#).unwrap(),
            r#""a-b-c""#
        );
        assert_eq!(eval(r#"concat(",", {"b", "a"})"#).unwrap(), r#""a,b""#);
        assert_eq!(eval(r#"concat(",", [])"#).unwrap(), r#""""#);
        // Wrong operand types: undefined, as in OPA outside strict mode.
        for undefined in [
            r#"concat(",", [1])"#,
            "array.concat(1, [2])",
            r#"concat(1, ["a"])"#,
        ] {
            assert_eq!(
                eval(undefined).as_deref(),
                Ok("\"<undefined>\""),
                "{undefined}"
            );
        }
        // Doubling a million-element array, or a string past 16 MiB: an error naming the limit.
        let e =
            eval("array.concat(numbers.range(1, 600000), numbers.range(1, 600000))").unwrap_err();
        assert!(e.contains("over guard's limit of 1000000"), "{e}");
        let policy = "s0 := concat(\"\", [\"0123456789abcdef\"])\n".to_string()
            + &(0..21)
                .map(|i| format!("s{} := concat(\"\", [s{i}, s{i}])\n", i + 1))
                .collect::<String>();
        let mut e = regorus::Engine::new();
        add(&mut e);
        e.add_policy("p.rego".into(), format!("package p\n{policy}"))
            .unwrap();
        let err = e.eval_rule("data.p.s21".into()).unwrap_err().to_string();
        assert!(err.contains("over guard's limit of 16777216"), "{err}");
    }
}
