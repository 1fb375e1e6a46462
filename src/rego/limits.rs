//! Builtins whose result can be made as large as a policy likes, bounded. `numbers.range(1,
//! 1e10)` asks regorus for ten billion numbers (a 72 GB allocation that aborts the process);
//! guard registers its own `numbers.range` and `numbers.range_step` (extensions are looked up
//! before builtins) that refuse a range of more than [`MAX_RANGE`] elements with an error the
//! evaluation reports, and otherwise give OPA's result.

use regorus::Value;

/// The most elements one range may have.
pub const MAX_RANGE: u64 = 1_000_000;

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
    // Registration fails only when the name is taken, which it is not on a new engine.
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
}
