//! Typed configuration values: how each Rust type reads itself from TOML,
//! prints itself back, and which checks a key can ask for.

use toml_edit::Value;

/// A type a configuration key can have.
pub trait ConfigValue: Sized + Clone {
    /// Human-readable kind, used in "expected ..." messages and in docs/config.md.
    fn kind() -> String;
    /// Reads the value; `Err` carries the reason (without the key).
    fn from_toml(value: &Value) -> Result<Self, String>;
    /// `None` when the value is absent (an unset optional key).
    fn to_toml(&self) -> Option<Value>;
}

/// An optional key: absent unless given.
impl<T: ConfigValue> ConfigValue for Option<T> {
    fn kind() -> String {
        T::kind()
    }
    fn from_toml(value: &Value) -> Result<Self, String> {
        T::from_toml(value).map(Some)
    }
    fn to_toml(&self) -> Option<Value> {
        self.as_ref().and_then(T::to_toml)
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

fn wrong_type<T: ConfigValue>(value: &Value) -> String {
    format!("expected {}, found {}", T::kind(), type_name(value))
}

impl ConfigValue for u64 {
    fn kind() -> String {
        "an integer".into()
    }
    fn from_toml(value: &Value) -> Result<Self, String> {
        match value.as_integer() {
            Some(i) if i < 0 => Err(format!("must not be negative, found {i}")),
            Some(i) => Ok(i as u64),
            None => Err(wrong_type::<Self>(value)),
        }
    }
    fn to_toml(&self) -> Option<Value> {
        Some(Value::from(*self as i64))
    }
}

impl ConfigValue for f64 {
    fn kind() -> String {
        "a number".into()
    }
    fn from_toml(value: &Value) -> Result<Self, String> {
        let number = match value {
            Value::Float(f) => *f.value(),
            Value::Integer(i) => *i.value() as f64,
            _ => return Err(wrong_type::<Self>(value)),
        };
        if number.is_finite() {
            Ok(number)
        } else {
            Err(format!("must be a finite number, found {number}"))
        }
    }
    fn to_toml(&self) -> Option<Value> {
        Some(Value::from(*self))
    }
}

impl ConfigValue for bool {
    fn kind() -> String {
        "a boolean (true or false)".into()
    }
    fn from_toml(value: &Value) -> Result<Self, String> {
        value.as_bool().ok_or_else(|| wrong_type::<Self>(value))
    }
    fn to_toml(&self) -> Option<Value> {
        Some(Value::from(*self))
    }
}

impl ConfigValue for String {
    fn kind() -> String {
        "a string".into()
    }
    fn from_toml(value: &Value) -> Result<Self, String> {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| wrong_type::<Self>(value))
    }
    fn to_toml(&self) -> Option<Value> {
        Some(Value::from(self.as_str()))
    }
}

/// Declares a string-valued enum usable as a configuration value.
#[macro_export]
macro_rules! config_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            /// Parses the TOML spelling; the error lists the valid values.
            pub fn parse(text: &str) -> Result<Self, String> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown value `{}`; valid values: {}",
                        other,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::ConfigValue for $name {
            fn kind() -> String {
                format!("one of {}", [$($text),+].join(" | "))
            }
            fn from_toml(value: &toml_edit::Value) -> Result<Self, String> {
                match value.as_str() {
                    Some(text) => $name::parse(text),
                    None => Err(format!("expected {}", <$name as $crate::ConfigValue>::kind())),
                }
            }
            fn to_toml(&self) -> Option<toml_edit::Value> {
                Some(toml_edit::Value::from(self.as_str()))
            }
        }
    };
}

/// Range and shape checks a key declaration can name.
pub mod check {
    pub fn any<T>(_: &T) -> Result<(), String> {
        Ok(())
    }

    pub fn positive(value: &u64) -> Result<(), String> {
        if *value == 0 {
            Err("must be positive, found 0".into())
        } else {
            Ok(())
        }
    }

    pub fn power_of_two(value: &u64) -> Result<(), String> {
        if value.is_power_of_two() {
            Ok(())
        } else {
            Err(format!("must be a positive power of two, found {value}"))
        }
    }

    /// Largest count of a replicated resource (PE rows or columns, banks,
    /// lanes, queue entries, requests in flight): 2¹⁶. The models allocate
    /// state per resource, so a larger count is refused rather than allocated.
    pub const MAX_COUNT: u64 = 1 << 16;
    /// Largest SRAM capacity: 2⁴⁰ bytes (1 TiB).
    pub const MAX_CAPACITY_BYTES: u64 = 1 << 40;
    /// Largest per-operation cost or latency in cycles: 2²⁰.
    pub const MAX_CYCLES: u64 = 1 << 20;

    fn at_most(value: u64, max: u64, what: &str) -> Result<(), String> {
        if value > max {
            Err(format!("{value} is above the maximum {what} of {max}"))
        } else {
            Ok(())
        }
    }

    /// 1 ..= [`MAX_COUNT`].
    pub fn count(value: &u64) -> Result<(), String> {
        positive(value)?;
        at_most(*value, MAX_COUNT, "count")
    }

    /// A power of two ≤ [`MAX_COUNT`].
    pub fn count_power_of_two(value: &u64) -> Result<(), String> {
        power_of_two(value)?;
        at_most(*value, MAX_COUNT, "count")
    }

    /// Largest DRAM channel count: 256 (the controllers' queues are allocated per channel).
    pub const MAX_CHANNELS: u64 = 256;
    /// Largest rank count per channel: 16.
    pub const MAX_RANKS: u64 = 16;
    /// Largest DRAM controller queue: 4096 entries per channel.
    pub const MAX_QUEUE_ENTRIES: u64 = 4096;

    /// A power of two ≤ [`MAX_CHANNELS`].
    pub fn channels(value: &u64) -> Result<(), String> {
        power_of_two(value)?;
        at_most(*value, MAX_CHANNELS, "channel count")
    }

    /// A power of two ≤ [`MAX_RANKS`].
    pub fn ranks(value: &u64) -> Result<(), String> {
        power_of_two(value)?;
        at_most(*value, MAX_RANKS, "rank count")
    }

    /// 1 ..= [`MAX_QUEUE_ENTRIES`].
    pub fn queue_entries(value: &u64) -> Result<(), String> {
        positive(value)?;
        at_most(*value, MAX_QUEUE_ENTRIES, "queue size")
    }

    /// Largest port count of an SRAM bank: 64.
    pub const MAX_PORTS: u64 = 64;

    /// 1 ..= [`MAX_PORTS`].
    pub fn ports(value: &u64) -> Result<(), String> {
        positive(value)?;
        at_most(*value, MAX_PORTS, "port count")
    }

    /// 1 ..= [`MAX_CAPACITY_BYTES`].
    pub fn capacity_bytes(value: &u64) -> Result<(), String> {
        positive(value)?;
        at_most(*value, MAX_CAPACITY_BYTES, "capacity")
    }

    /// 1 ..= [`MAX_CYCLES`].
    pub fn cycles(value: &u64) -> Result<(), String> {
        positive(value)?;
        at_most(*value, MAX_CYCLES, "cycles")
    }

    /// Element size: 1, 2, 4 or 8 bytes.
    pub fn element_bytes(value: &u64) -> Result<(), String> {
        power_of_two(value)?;
        at_most(*value, 8, "element size")
    }

    fn number_within(value: f64, min: f64, max: f64, unit: &str) -> Result<(), String> {
        if value < min || value > max {
            // Plain decimal for ordinary numbers, scientific for extreme ones.
            let shown = if (1e-6..1e12).contains(&value.abs()) {
                value.to_string()
            } else {
                format!("{value:e}")
            };
            Err(format!(
                "{shown} {unit} is outside the supported range {min} ..= {max} {unit}"
            ))
        } else {
            Ok(())
        }
    }

    /// A core clock of 1 MHz to 100 GHz.
    pub fn clock_mhz(value: &f64) -> Result<(), String> {
        number_within(*value, 1.0, 1e5, "MHz")
    }

    /// A bandwidth of 1 GiB/s to 1 PiB/s, when set.
    pub fn bandwidth_gib_per_s_if_set(value: &Option<f64>) -> Result<(), String> {
        value
            .as_ref()
            .map_or(Ok(()), |v| number_within(*v, 1.0, 1024.0 * 1024.0, "GiB/s"))
    }

    /// A DRAM latency of 0 to 1 ms.
    pub fn latency_ns(value: &f64) -> Result<(), String> {
        number_within(*value, 0.0, 1e6, "ns")
    }

    /// An energy of 0 to 1 µJ (10⁶ pJ) per action.
    pub fn energy_pj(value: &f64) -> Result<(), String> {
        number_within(*value, 0.0, 1e6, "pJ")
    }

    pub fn format_version(value: &u64) -> Result<(), String> {
        if *value == 1 {
            Ok(())
        } else {
            Err(format!(
                "unsupported format version {value}; this flatsim reads version 1"
            ))
        }
    }

    #[allow(clippy::ptr_arg)] // every check takes &T of its key's type
    pub fn not_empty(value: &String) -> Result<(), String> {
        if value.trim().is_empty() {
            Err("must not be empty".into())
        } else {
            Ok(())
        }
    }
}
