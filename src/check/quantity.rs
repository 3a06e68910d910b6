//! Kubernetes resource quantities ("100m", "0.5", "128Mi", "1e3"), parsed to a number so
//! that requests can be compared with limits.

/// The value of a quantity in base units (cores, bytes), or why it is not one.
pub fn parse(text: &str) -> Result<f64, String> {
    let hint = "expected a Kubernetes quantity such as \"250m\", \"0.5\", \"128Mi\" or \"1Gi\"";
    let (number, suffix) = split_number(text);
    if number.is_empty() || number == "." || number == "+" || number == "-" {
        return Err(hint.into());
    }
    let value: f64 = number.parse().map_err(|_| hint.to_string())?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => {
            let exp: i32 = s[1..].parse().map_err(|_| hint.to_string())?;
            10f64.powi(exp)
        }
        other => return Err(format!("unknown suffix `{other}`; {hint}")),
    };
    if value < 0.0 {
        return Err("must not be negative".into());
    }
    Ok(value * factor)
}

fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || ((c == '+' || c == '-') && i == 0)))
        .map_or(text.len(), |(i, _)| i);
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn cpu_and_memory() {
        assert_eq!(parse("100m").unwrap(), 0.1);
        assert_eq!(parse("2").unwrap(), 2.0);
        assert_eq!(parse("0.5").unwrap(), 0.5);
        assert_eq!(parse("128Mi").unwrap(), 128.0 * 1024.0 * 1024.0);
        assert_eq!(parse("1G").unwrap(), 1e9);
        assert_eq!(parse("1e3").unwrap(), 1000.0);
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "12Mb", "1.2.3", "-1", "Mi", "1 Gi"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
